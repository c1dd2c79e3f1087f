# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import InvoiceFollowupCommon


@tagged('post_install', '-at_install')
class TestDeliveryJobs(InvoiceFollowupCommon):
    """Delivery runs as Odoo cron jobs, as many as the setting says, woken up by the daily run."""

    def _jobs(self):
        return self.env['invoice.followup.delivery']._delivery_jobs()

    def test_setting_keeps_that_many_jobs(self):
        settings = self.env['res.config.settings'].create({'followup_delivery_jobs': 3})
        settings.execute()
        jobs = self._jobs()
        self.assertEqual(len(jobs), 3)
        self.assertIn(self.env.ref('invoice_followup.ir_cron_deliver_reminders'), jobs)
        self.assertEqual(len(set(jobs.mapped('name'))), 3, "each job says which one it is")
        self.assertEqual(self.env['ir.config_parameter'].get_param('invoice_followup.delivery_jobs'), '3')
        self.env['res.config.settings'].create({'followup_delivery_jobs': 1}).execute()
        self.assertEqual(self._jobs(), self.env.ref('invoice_followup.ir_cron_deliver_reminders'))
        with self.assertRaises(ValidationError):
            self.env['res.config.settings'].create({'followup_delivery_jobs': 0})

    def test_daily_run_wakes_the_jobs_up_only_when_something_is_queued(self):
        self.env['invoice.followup.delivery']._set_job_count(2)
        Trigger = self.env['ir.cron.trigger']
        with self._at('2026-02-07'):
            self._run_cron()
        self.assertFalse(Trigger.search_count([('cron_id', 'in', self._jobs().ids)]), "nothing due: no job woken")
        invoice = self._followup_invoice()
        with self._at('2026-02-07'):
            self._run_cron()
        self.assertEqual(Trigger.search([('cron_id', 'in', self._jobs().ids)]).cron_id, self._jobs())
        self.assertEqual(self._logs(invoice).step_id, self.step_late_7, "and this run delivered too")

    def test_a_job_delivers_what_is_queued(self):
        invoice = self._followup_invoice()
        day = self._d('2026-02-07')
        with self._at('2026-02-07'):
            self.env['invoice.followup.queue']._apply(self.env['invoice.followup.planner']._plan(invoice, day), day)
            self.assertEqual(self._logs(invoice, states=('queued',)).step_id, self.step_late_7)
            with self.enter_registry_test_mode():
                self.env.ref('invoice_followup.ir_cron_deliver_reminders').method_direct_trigger()
        self.env.invalidate_all()
        self.assertEqual(self._logs(invoice).step_id, self.step_late_7)

    def test_workers_share_the_queue_by_customer(self):
        """A claim takes whole customers up to its size, so that each worker gets a share of the queue: taking the
        first reminders by id (customers interleaved) and then their customers' others took the whole queue."""
        customers = self.env['res.partner'].create([
            {'name': f"Customer {index}", 'email': f'customer{index}@example.com'} for index in range(6)])
        invoices = self.env['account.move'].union(*(
            self._followup_invoice(partner=customer) for _round in range(2) for customer in customers))
        day = self._d('2026-02-07')
        Delivery = self.env['invoice.followup.delivery']
        with self._at('2026-02-07'):
            self.env['invoice.followup.queue']._apply(self.env['invoice.followup.planner']._plan(invoices, day), day)
            self.assertEqual(len(self._logs(invoices, states=('queued',))), 12)
            rows = Delivery._claim(4)
            claimed = [log_id for log_id, _customer in rows]
            claimed += Delivery._claim_same_customers(claimed)
        logs = self.env['invoice.followup.log'].browse(claimed)
        self.assertEqual(len(logs), 4, "a batch of the claim's size")
        self.assertEqual(len(logs.move_id.commercial_partner_id), 2, "two whole customers")
        self.assertEqual([customer for _log, customer in rows], sorted(customer for _log, customer in rows))
