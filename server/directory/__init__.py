"""The clinic directory for professionals: finding a clinic, its back-door number, whether it
is open now, and its absences with the substitute. Municipality staff read it on the web,
other systems through the API; every look-up is audited."""
