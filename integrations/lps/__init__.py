"""Practice systems (LPS): how a vendor's system uses the platform, and a simulator of one."""
