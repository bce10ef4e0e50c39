"""The stack's wiring: the application layer declared on the deployed services (``analytics``) and the
logins each service gets (``logins``)."""
