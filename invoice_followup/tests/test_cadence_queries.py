# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from odoo.tests import tagged

from .common import InvoiceFollowupCommon

_logger = logging.getLogger(__name__)

# Queries one more reminder costs end to end (planned and queued, then claimed, re-checked, rendered with its batch,
# posted, e-mailed and logged in bulk), measured on Odoo 19.0 (Debian package): none, every read and write is per
# batch. A query per reminder in a loop fails here (the ceiling is 15).
MAX_QUERIES_PER_REMINDER = 0.5  # measured: 0.0
# What a run costs whatever the number of reminders (four companies here): progress, the batches' locks, the
# templates and the e-mail layout read once.
MAX_FIXED_QUERIES = 200  # measured: 112


@tagged('post_install', '-at_install')
class TestCadenceQueries(InvoiceFollowupCommon):
    """The cost of a run grows with the reminders due, by a constant per reminder; a quiet day costs nothing."""

    def _queries_for_run(self, count, day):
        invoices = self.env['account.move']
        for _i in range(count):
            invoices |= self._followup_invoice(due='2026-01-31')
        invoices._followup_ensure_pdfs()  # the PDFs exist, as they do once invoices were sent
        self.env.flush_all()
        with self._at(day):
            before = self.cr.sql_log_count
            self._run_cron()
            queries = self.cr.sql_log_count - before
        self.assertEqual(len(self._logs(invoices)), count)
        return queries

    def test_queries_per_reminder_are_constant(self):
        self._queries_for_run(2, '2026-02-07')  # what the first run of a worker reads once (templates, layout)
        small = self._queries_for_run(4, '2026-02-08')  # the reminders sent before are done: only the new ones
        large = self._queries_for_run(12, '2026-02-09')
        per_reminder = (large - small) / 8
        _logger.info("reminder cron: %s queries for 4 reminders, %s for 12: %.1f per reminder",
                     small, large, per_reminder)
        self.assertLessEqual(per_reminder, MAX_QUERIES_PER_REMINDER)
        fixed = small - 4 * per_reminder
        self.assertLess(fixed, MAX_FIXED_QUERIES, "the run's fixed cost stays small")

    def test_quiet_day_is_a_handful_of_queries(self):
        for _i in range(20):
            self._followup_invoice(due='2026-03-31')
        self.env.flush_all()
        with self._at('2026-02-07'):
            before = self.cr.sql_log_count
            self._run_cron()
            queries = self.cr.sql_log_count - before
        _logger.info("reminder cron with nothing due: %s queries", queries)
        self.assertLess(queries, 45, "nothing due: no work per invoice (measured: 35)")
