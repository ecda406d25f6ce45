"""The clinic's virtual waiting room: queue order, entering, leaving, admitting, presence."""
