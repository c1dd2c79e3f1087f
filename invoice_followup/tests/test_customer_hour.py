# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import tagged

from .common import InvoiceFollowupCommon


@tagged('post_install', '-at_install')
class TestCustomerHour(InvoiceFollowupCommon):
    """A step may go out at an hour of the customer's day, in their time zone, still exactly once."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner_a.tz = 'America/New_York'  # UTC-5 in February
        cls.step_late_7.send_hour = '9'
        cls.delivery_job = cls.env.ref('invoice_followup.ir_cron_deliver_reminders')

    def _run_delivery_job(self):
        with self.enter_registry_test_mode():
            self.delivery_job.method_direct_trigger()
        self.env.invalidate_all()

    def _preview_line(self, invoice, day):
        lines = self.env['invoice.followup.planner']._preview_lines(self.company, self._d(day))
        return next(line for line in lines if line['move_id'] == invoice.id)

    def test_sent_once_at_the_customers_hour(self):
        invoice = self._followup_invoice()
        other = self._followup_invoice(partner=self.partner_b)
        self.partner_b.tz = False  # no time zone of its own
        with self._at('2026-02-07', '12:00:00'):  # 07:00 in New York
            line = self._preview_line(invoice, '2026-02-07')
            self.assertEqual(line['hold'], 'hour')
            self.assertEqual(line['send_at'], '2026-02-07 09:00 (America/New_York)', "the local send time")
            self._run_cron()
        self.assertFalse(self._logs(invoice), "too early for this customer")
        with self._at('2026-02-07', '13:30:00'):  # 08:30 in New York
            self._run_delivery_job()
        self.assertFalse(self._logs(invoice))
        with self._at('2026-02-07', '14:05:00'):  # 09:05 in New York
            self._run_delivery_job()
        self.assertEqual(self._logs(invoice).step_id, self.step_late_7, "sent at the customer's hour")
        with self._at('2026-02-07', '15:05:00'):
            self._run_delivery_job()
            self._run_cron()
        self.assertEqual(len(self._logs(invoice)), 1, "exactly once")
        company_tz_time = self.env['invoice.followup.planner']._customer_time(other, self._d('2026-02-07'), 9)
        self.assertEqual(company_tz_time.tzinfo.zone, self.company.resource_calendar_id.tz or 'UTC',
                         "without a time zone of their own: the company's")

    def test_steps_without_an_hour_go_out_with_the_daily_run(self):
        self.step_late_7.send_hour = False
        invoice = self._followup_invoice()
        with self._at('2026-02-07', '06:00:00'):
            self._run_cron()
        self.assertEqual(self._logs(invoice).step_id, self.step_late_7)
