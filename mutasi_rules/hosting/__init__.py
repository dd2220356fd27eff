"""The service as a multi-user host offers it: keys and roles, agency scopes, datasets kept by id."""
