"""Classroom runs (issue 15): scenario customers on the real server for a class of trainees.

``Classroom`` runs the class (start, pause, resume, stop); ``WireCustomer`` is one
scripted customer over the protocol, driving the same ``CustomerScript`` engine as
the ``MockBackend``. Reports: ``chat_widget.analysis.classroom``.
"""

from .classroom import Classroom, CustomerInfo, plan
from .wire_customer import CustomerStatus, WireCustomer, origin_for

__all__ = ["Classroom", "CustomerInfo", "CustomerStatus", "WireCustomer", "origin_for", "plan"]
