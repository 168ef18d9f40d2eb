"""Web views served by the worker's Faust web server."""
