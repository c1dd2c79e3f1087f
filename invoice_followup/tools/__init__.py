# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Helpers of the crons (no model here): batches, row locks, fault classification, batch preparation."""
