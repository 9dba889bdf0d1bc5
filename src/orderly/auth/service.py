"""Registration, login, token refresh and logout."""

from __future__ import annotations

from orderly.auth.exceptions import InvalidCredentialsError
from orderly.auth.schemas import RegisterRequest, Registration, TokenPair
from orderly.auth.tokens import ACCESS_TOKENS
from orderly.core.container import Container
from orderly.core.identity import Role
from orderly.core.passwords import PASSWORDS
from orderly.core.unit_of_work import UnitOfWork
from orderly.sessions.exceptions import InvalidRefreshTokenError
from orderly.sessions.service import SessionService
from orderly.tenants.schemas import TenantRead
from orderly.tenants.service import TenantService
from orderly.users.models import User
from orderly.users.schemas import UserCreate, UserRead
from orderly.users.service import UserAccounts


class AuthService:
    def __init__(self, uow: UnitOfWork, parts: Container) -> None:
        self.passwords = parts[PASSWORDS]
        self.access_tokens = parts[ACCESS_TOKENS]
        self.tenants = TenantService(uow, parts)
        self.users = UserAccounts(uow, parts)
        self.sessions = SessionService(uow, parts)

    async def register(self, data: RegisterRequest) -> Registration:
        """A new tenant (plan free) and its owner, in the request's one transaction."""
        tenant = await self.tenants.create(data.tenant_name)
        user = await self.users.create_in_tenant(
            tenant.id,
            UserCreate(
                email=data.email,
                password=data.password,
                full_name=data.full_name,
                role=Role.OWNER,
            ),
        )
        return Registration(
            tenant=TenantRead.model_validate(tenant), user=UserRead.model_validate(user)
        )

    async def login(self, email: str, password: str) -> TokenPair:
        # Under a login storm, refuse before the user lookup, not after it: the 503 then
        # costs no database round trip (and says nothing about the email).
        self.passwords.check_capacity()
        user = await self.users.find_by_email(email.strip().lower())
        # Verify even when the user is unknown (against a dummy hash): the answer takes
        # the same time either way, so timing does not reveal which emails exist.
        valid, new_hash = await self.passwords.verify(
            password, user.password_hash if user else None
        )
        if user is None or not valid or not user.is_active:
            raise InvalidCredentialsError
        if new_hash is not None:
            user.password_hash = new_hash
        return await self._pair(user, family_id=None)

    async def refresh(self, refresh_token: str) -> TokenPair:
        grant = await self.sessions.consume(refresh_token)
        user = await self.users.find_by_id(grant.user_id)
        if user is None or not user.is_active or user.tenant_id != grant.tenant_id:
            raise InvalidRefreshTokenError
        # Issued before the user's sessions ended: its row escaped the revocation (a
        # login racing the demotion), the generation did not.
        if grant.generation != user.session_generation:
            raise InvalidRefreshTokenError
        return await self._pair(user, family_id=grant.family_id)

    async def logout(self, refresh_token: str) -> None:
        await self.sessions.revoke(refresh_token)

    async def _pair(self, user: User, family_id: str | None) -> TokenPair:
        # Role and generation as read in this transaction: a demotion committed later
        # bumps the generation, which refuses both tokens.
        generation = user.session_generation
        refresh = await self.sessions.issue(
            user_id=user.id, tenant_id=user.tenant_id, generation=generation, family_id=family_id
        )
        access = self.access_tokens.issue(
            user_id=user.id, tenant_id=user.tenant_id, role=user.role, generation=generation
        )
        return TokenPair(
            access_token=access,
            expires_in=self.access_tokens.ttl_seconds,
            refresh_token=refresh,
        )
