"""Meetings, participants and the agenda: rules, JSON API and pages."""
