"""pytest plugin (entry point ``pytest11``): the cross-check harness inside anyone's test suite."""
