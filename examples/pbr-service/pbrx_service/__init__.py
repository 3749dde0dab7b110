"""pbrx-service: an example service for pbrx farm."""
