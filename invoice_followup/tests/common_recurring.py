# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.fields import Command
from odoo.tests.common import freeze_time

from .common import InvoiceFollowupCommon


class RecurringCommon(InvoiceFollowupCommon):
    """Recurring schedules of partner_a: a 1000.00 retainer line without taxes, posted, not sent."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.recurring_cron = cls.env.ref('invoice_followup.ir_cron_generate_recurring')
        cls.journal_sale = cls.company_data['default_journal_sale']

    @classmethod
    def _schedule(cls, start='2026-11-01', state='running', lines=None, started=None, **values):
        """A schedule of ``start``; running: started on ``started`` (by default on its start date, so that no
        period lies before the day it was started)."""
        schedule = cls.env['invoice.followup.recurring'].create({
            'name': 'Retainer',
            'partner_id': cls.partner_a.id,
            'date_start': start,
            'interval_number': 1,
            'interval_unit': 'month',
            'auto_post': True,
            'line_ids': lines or [Command.create({
                'product_id': cls.product_a.id, 'name': 'Retainer', 'quantity': 1.0, 'price_unit': 1000.0,
                'tax_ids': [Command.clear()],
            })],
            **values,
        })
        if state == 'running':
            with freeze_time(started or start):
                schedule.action_start()
        return schedule

    def _run_recurring_cron(self):
        """Run the recurring cron the way Odoo's cron worker does (progress, commits as savepoints)."""
        with self.enter_registry_test_mode():
            self.recurring_cron.method_direct_trigger()
        self.env.invalidate_all()

    def _invoices(self, schedule):
        return self.env['account.move'].search(
            [('recurring_id', 'in', schedule.ids), ('state', '!=', 'cancel')], order='recurring_period_start')
