"""The compiled run: network plan, state pytree, ring buffers, delivery and the scan loop."""
