"""Live events: the events API, Server-Sent Events and WebSocket, fed by the relay
(its ``EVENT_SINKS``) and fanned out across processes through Redis pub/sub."""
