"""Pages people see: the patient's link, the GP's console, login, and error pages."""
