# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from unittest.mock import patch

import psycopg2.errors

from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import InvoiceFollowupCommon


class WorkerKilled(Exception):
    """Stands for a worker killed between the reminder and its commit."""


@tagged('post_install', '-at_install')
class TestCadenceFaults(InvoiceFollowupCommon):
    """Bad invoices, crashes and delivery failures: nothing lost, nothing twice, nothing looping."""

    def _mails_to(self, partner):
        return self.env['mail.mail'].search([('recipient_ids', 'in', partner.ids)])

    def test_one_bad_invoice_does_not_block_or_loop_the_batch(self):
        invoices = self.env['account.move']
        for _i in range(5):
            invoices |= self._followup_invoice()
        bad = invoices[2]
        Template = self.registry['mail.template']
        original = Template._generate_template

        def broken_for_bad(this, res_ids, *args, **kwargs):
            if bad.id in res_ids:
                raise ValueError("Template exploded")
            return original(this, res_ids, *args, **kwargs)

        with self._at('2026-02-07'), patch.object(Template, '_generate_template', broken_for_bad), \
                self._warns():
            self._run_cron()
            sent_first = self._logs(invoices)
            self.assertEqual(sent_first.move_id, invoices - bad)
            self.assertEqual(bad.followup_state, 'exception')
            self.assertIn("Template exploded", bad.followup_error)
            failed = self._logs(bad, states=('failed',))
            self.assertEqual(failed.step_id, self.step_late_7)
            self.assertEqual(self.cron.failure_count, 0, "the cron itself did not fail")
            self._run_cron()
        self.assertEqual(self._logs(invoices), sent_first, "no resend")
        self.assertEqual(len(self._logs(bad, states=('failed',))), 1, "the bad invoice is not retried on its own")
        self.assertFalse(self.env['ir.cron.trigger'].search([('cron_id', '=', self.cron.id)]),
                         "no ASAP re-trigger left behind (odoo#270577)")
        self.assertEqual(len(self._mails_to(self.partner_a)), 4)

        # A person fixes it and resumes: the step goes out once.
        bad.action_followup_resume()
        self.assertEqual(bad.followup_state, 'active')
        with self._at('2026-02-07'):
            self._run_cron()
        self.assertEqual(self._logs(bad).step_id, self.step_late_7)

    def test_customer_without_email(self):
        self.partner_a.email = False
        invoice = self._followup_invoice()
        with self._at('2026-02-07'), self._warns():
            self._run_cron()
        failed = self._logs(invoice, states=('failed',))
        self.assertIn("no valid e-mail address", failed.note)
        self.assertEqual(invoice.followup_state, 'exception')
        self.assertFalse(self.env['mail.mail'].search([('model', '=', 'account.move'), ('res_id', '=', invoice.id)]))

    def test_invalid_email_address(self):
        self.partner_a.email = 'not-an-address'
        invoice = self._followup_invoice()
        with self._at('2026-02-07'), self._warns():
            self._run_cron()
        self.assertEqual(invoice.followup_state, 'exception')
        self.assertTrue(self._logs(invoice, states=('failed',)))

    def test_crash_before_commit_leaves_no_trace(self):
        invoice = self._followup_invoice()
        Cron = self.registry['ir.cron']
        original = Cron._commit_progress
        calls = []

        def killed_on_first_record(this, processed=0, **kwargs):
            if processed:
                calls.append(processed)
                if len(calls) == 1:
                    raise WorkerKilled()
            return original(this, processed, **kwargs)

        with self._at('2026-02-07'), patch.object(Cron, '_commit_progress', killed_on_first_record), \
                mute_logger('odoo.addons.base.models.ir_cron'):
            self._run_cron()
            self.assertFalse(self._logs(invoice, states=('sent', 'failed')), "rolled back with the job")
            self.assertFalse(self._mails_to(self.partner_a), "no e-mail survives the rollback")
            self._run_cron()
        self.assertEqual(len(self._logs(invoice)), 1)
        self.assertEqual(len(self._mails_to(self.partner_a)), 1)

    def test_unique_index_on_invoice_step_and_installment(self):
        invoice = self._followup_invoice()
        values = {'move_id': invoice.id, 'step_id': self.step_due.id, 'cycle_key': '2026-01-31',
                  'currency_id': invoice.currency_id.id}
        Log = self.env['invoice.followup.log'].sudo()  # the engine's writes: users only read logs
        first = Log.create(values)
        with self.assertRaises(psycopg2.errors.UniqueViolation), mute_logger('odoo.sql_db'), self.cr.savepoint():
            Log.create(values)
            self.env.flush_all()
        first.state = 'failed'
        self.env.flush_all()
        second = Log.create(values)  # a failed attempt does not hold the slot
        second.state = 'cancel'
        self.env.flush_all()
        third = Log.create(values)  # nor does a cancelled one
        self.env.flush_all()
        self.cr.execute("SELECT id, state FROM invoice_followup_log WHERE move_id = %s ORDER BY id", [invoice.id])
        self.assertEqual(self.cr.fetchall(), [(first.id, 'failed'), (second.id, 'cancel'), (third.id, third.state)])
        self.assertNotIn(third.state, ('failed', 'cancel'), "the new attempt is the live one")

    def test_time_budget_and_batches_process_everything_once(self):
        invoices = self.env['account.move']
        # One customer each: a customer's reminders are delivered together, whatever the batch size.
        customers = self.env['res.partner'].create([
            {'name': f'Budget customer {index}', 'email': f'budget{index}@example.com'} for index in range(12)])
        for customer in customers:
            invoices |= self._followup_invoice(partner=customer)
        self.env['ir.config_parameter'].set_param('invoice_followup.batch_size', 4)
        Cron = self.registry['ir.cron']
        Move = self.registry['account.move']
        original_progress = Cron._commit_progress
        original_cron = Move._cron_send_reminders
        processed = []
        runs = []

        def budget_of_two(this, processed_count=0, **kwargs):
            left = original_progress(this, processed_count, **kwargs)
            if processed_count:
                processed.append(processed_count)
                return 0 if len(processed) % 2 == 0 else left
            return left

        def counted_run(this, *args, **kwargs):
            runs.append(self.env['invoice.followup.log'].search_count([('state', '=', 'sent')]))
            return original_cron(this, *args, **kwargs)

        with self._at('2026-02-07'), patch.object(Cron, '_commit_progress', budget_of_two), \
                patch.object(Move, '_cron_send_reminders', counted_run):
            self._run_cron()
        # Planned in one call (3 batches of 4, committed), delivered 4 by 4: the budget is spent after two batches.
        self.assertEqual(runs, [0, 8], "each call stops when the budget is spent; the runner calls again")
        self.assertEqual(len(self._logs(invoices)), 12)
        self.assertEqual(self._logs(invoices).move_id, invoices, "each invoice exactly once")
        progress = self.env['ir.cron.progress'].search([('cron_id', '=', self.cron.id)])
        self.assertEqual(sum(progress.mapped('done')), 12)
        self.assertEqual(progress.sorted('id')[-1].remaining, 0)

    def test_smtp_failure_marks_the_reminder_and_does_not_retry(self):
        invoice = self._followup_invoice()
        with self._at('2026-02-07'):
            self._run_cron()
        mail = self._mails_to(self.partner_a)
        with self.mock_mail_gateway(), patch.object(
                self.registry['ir.mail_server'], '_connect__', side_effect=ConnectionRefusedError("SMTP is down")), \
                mute_logger('odoo.addons.mail.models.mail_mail'), self._warns():
            mail.send(raise_exception=False)
        self.assertEqual(mail.state, 'exception')
        log = self._logs(invoice, states=('sent', 'failed'))
        self.assertEqual(log.state, 'failed')
        self.assertEqual(invoice.followup_state, 'exception')
        self.assertIn("could not be delivered", invoice.followup_error)
        with self._at('2026-02-14'):
            self._run_cron()
        self.assertEqual(len(self._mails_to(self.partner_a)), 1, "our cron neither retries nor moves on")
        with self.mock_mail_gateway():
            mail.action_retry()
            mail.send()
        self.assertEqual(mail.state, 'sent', "the admin's retry sends it once")
        self.assertEqual(len(self._mails_to(self.partner_a)), 1)
        self.assertEqual(log.state, 'sent')
        self.assertEqual(invoice.followup_state, 'active', "delivered after all: the exception closes itself")
