"""The OpenAPI document, generated from the public parameter table and the routes."""
