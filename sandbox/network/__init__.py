"""What stands for AWS's network on loopback: the CNAME front (DNS and each environment's load balancer,
`front`), a resolver's cache that keeps an old answer for its TTL (`dns_cache`), and free loopback ports."""
