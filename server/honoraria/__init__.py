"""Pilot honoraria as services: accrual from the event stream, and what an admin records
about a GP (enrolment, questionnaires). The rules they apply are in `server.pilots`."""
