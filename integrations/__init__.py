"""The world outside: sales channels, payment gateways, warehouses and carriers."""
