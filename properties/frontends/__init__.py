"""What people use: the ``crosscheck`` command, the pytest plugin, the report and target loading."""
