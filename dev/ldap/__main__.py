"""`python -m dev.ldap`: run a slapd with the sample people until interrupted."""

from dev.ldap.slapd_server import main

main()
