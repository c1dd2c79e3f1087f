# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from unittest.mock import patch

import psycopg2.errors

from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import InvoiceFollowupCommon


@tagged('post_install', '-at_install')
class TestDeliveryFaults(InvoiceFollowupCommon):
    """Faults of delivery, classified: conflicts and timeouts are retried, permanent errors fail once, the failure
    path never aborts the run, the mail queue never sends what is no longer due, nor a step twice."""

    def _failing(self, error, times):
        """Patch the delivery of e-mails to raise ``error`` on its first ``times`` calls."""
        Delivery = self.registry['invoice.followup.delivery']
        original = Delivery._send_emails
        calls = []

        def failing(this, *args, **kwargs):
            calls.append(1)
            if len(calls) <= times:
                raise error
            return original(this, *args, **kwargs)

        return patch.object(Delivery, '_send_emails', failing)

    def _template_broken_for(self, invoice):
        """Patch e-mail rendering to fail for ``invoice`` (and every batch holding it)."""
        Template = self.registry['mail.template']
        original = Template._generate_template

        def broken(this, res_ids, *args, **kwargs):
            if invoice.id in res_ids:
                raise ValueError("Template exploded")
            return original(this, res_ids, *args, **kwargs)

        return patch.object(Template, '_generate_template', broken)

    def test_failed_batch_is_retried_reminder_by_reminder(self):
        invoices = self._followup_invoice() | self._followup_invoice(partner=self.partner_b)
        with self._at('2026-02-07'), self._failing(psycopg2.errors.DeadlockDetected("deadlock detected"), times=1):
            self._run_cron()
        self.assertEqual(self._logs(invoices).move_id, invoices, "each sent on its own in the same run")

    def test_conflicts_and_timeouts_are_retried_never_an_exception(self):
        for error in (psycopg2.errors.DeadlockDetected("deadlock detected"),
                      psycopg2.errors.SerializationFailure("could not serialize access"),
                      psycopg2.errors.LockNotAvailable("could not obtain lock"),
                      psycopg2.errors.QueryCanceled("canceling statement due to statement timeout")):
            with self.subTest(error=type(error).__name__):
                invoice = self._followup_invoice()
                with self._at('2026-02-07'), self._failing(error, times=2):
                    self._run_cron()  # the batch fails, then the reminder alone fails again: left queued
                self.assertEqual(self._logs(invoice, states=('queued',)).step_id, self.step_late_7)
                self.assertEqual(invoice.followup_state, 'active', "a conflict is no fault of the invoice")
                self.assertFalse(invoice.followup_case_ids)
                with self._at('2026-02-07'):
                    self._run_cron()
                self.assertEqual(self._logs(invoice).step_id, self.step_late_7, "sent on the next run")

    def test_permanent_error_fails_once_and_is_logged_with_the_invoice(self):
        invoice = self._followup_invoice()
        other = self._followup_invoice(partner=self.partner_b)
        with self._at('2026-02-07'), self._template_broken_for(invoice), \
                self.assertLogs('odoo.addons.invoice_followup', level='WARNING') as logged:
            self._run_cron()
        self.assertTrue(any(invoice.name in line and "Template exploded" in line for line in logged.output),
                        logged.output)
        self.assertEqual(invoice.followup_state, 'exception')
        self.assertEqual(len(self._logs(invoice, states=('failed',))), 1)
        self.assertEqual(self._logs(other).step_id, self.step_late_7, "the other invoice went out")

    def test_failing_failure_path_does_not_abort_the_run(self):
        bad = self._followup_invoice()
        good = self._followup_invoice(partner=self.partner_b)
        Move = self.registry['account.move']
        with self._at('2026-02-07'), self._template_broken_for(bad), \
                patch.object(Move, '_followup_mark_failed', side_effect=RuntimeError("the failure path broke")), \
                mute_logger('odoo.addons.invoice_followup.tools.cron_batch'):
            self._run_cron()
        self.assertEqual(self.cron.failure_count, 0, "the run went on")
        self.assertEqual(self._logs(good).step_id, self.step_late_7)
        self.assertTrue(self._logs(bad, states=('queued',)), "left queued for the next run, not lost")

    def test_unrelated_unique_violation_is_a_failure_not_done(self):
        invoice = self._followup_invoice()
        Delivery = self.registry['invoice.followup.delivery']
        original = Delivery._send_emails

        def duplicate_elsewhere(this, *args, **kwargs):
            this.env.cr.execute("INSERT INTO ir_config_parameter (key, value) "
                                "SELECT key, value FROM ir_config_parameter LIMIT 1")
            return original(this, *args, **kwargs)

        with self._at('2026-02-07'), patch.object(Delivery, '_send_emails', duplicate_elsewhere), \
                mute_logger('odoo.sql_db'), self.assertLogs('odoo.addons.invoice_followup', level='WARNING'):
            self._run_cron()
        self.assertEqual(self._logs(invoice, states=('failed',)).step_id, self.step_late_7,
                         "not counted as sent: it failed, and a person sees it")
        self.assertEqual(invoice.followup_state, 'exception')

    def test_payment_after_queueing_cancels_the_waiting_email(self):
        invoice = self._followup_invoice()
        with self._at('2026-02-07'):
            self._run_cron()
        log = self._logs(invoice)
        mail = log.mail_id
        self.assertEqual(mail.state, 'outgoing')
        self._register_payment(invoice)
        with self.mock_mail_gateway():
            self.env['mail.mail'].process_email_queue()
        self.assertFalse(self._mails, "the mail queue sent nothing")
        self.assertEqual(mail.state, 'cancel')
        self.assertEqual((log.state, log.note), ('cancel', "Paid before the e-mail left."))

    def test_pause_after_queueing_cancels_and_the_step_comes_back(self):
        invoice = self._followup_invoice()
        with self._at('2026-02-07'):
            self._run_cron()
        log = self._logs(invoice)
        invoice.followup_paused_until = '2026-02-10'
        with self.mock_mail_gateway():
            self.env['mail.mail'].process_email_queue()
        self.assertFalse(self._mails)
        self.assertEqual(log.state, 'cancel')
        with self._at('2026-02-10'):
            self._run_cron()
        self.assertEqual(self._logs(invoice).step_id, self.step_late_7, "planned again once the pause ended")

    def test_retried_old_mail_never_sends_a_step_sent_again(self):
        invoice = self._followup_invoice()
        with self._at('2026-02-07'):
            self._run_cron()
        old_log = self._logs(invoice)
        old_mail = old_log.mail_id
        with self.mock_mail_gateway(), patch.object(
                self.registry['ir.mail_server'], '_connect__', side_effect=ConnectionRefusedError("SMTP is down")), \
                mute_logger('odoo.addons.mail.models.mail_mail'), \
                self.assertLogs('odoo.addons.invoice_followup', level='WARNING'):
            old_mail.send(raise_exception=False)
        self.assertEqual(old_log.state, 'failed')
        invoice.action_followup_resume()  # a person fixed the cause: the step is sent again
        with self._at('2026-02-07'):
            self._run_cron()
        new_log = self._logs(invoice)
        self.assertEqual(new_log.step_id, old_log.step_id)
        with self.mock_mail_gateway():
            new_log.mail_id.send()
            old_mail.action_retry()  # an administrator retries the old mail from the queue
            self.env['mail.mail'].process_email_queue()
        self.assertEqual(len(self._mails), 1, "the step went out once")
        self.assertEqual(old_mail.state, 'cancel')
        self.assertEqual((old_log.state, new_log.state), ('failed', 'sent'))
