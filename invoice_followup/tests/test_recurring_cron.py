# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from unittest.mock import patch

import psycopg2.errors

from odoo.fields import Command
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common_recurring import RecurringCommon


@tagged('post_install', '-at_install')
class TestRecurringCron(RecurringCommon):
    """The daily cron: one invoice per schedule and period, exactly once, whatever happens."""

    def test_one_invoice_per_period_even_run_twice_a_day(self):
        schedule = self._schedule(start='2026-11-01')
        with self._at('2026-10-31'):
            self._run_recurring_cron()
        self.assertFalse(self._invoices(schedule), "a day early: nothing")
        with self._at('2026-11-01'):
            self._run_recurring_cron()
            self._run_recurring_cron()
        invoice = self._invoices(schedule)
        self.assertEqual(len(invoice), 1, "running twice the same day bills once")
        self.assertEqual(invoice.state, 'posted')
        self.assertEqual(invoice.amount_total, 1000.0)
        self.assertEqual(invoice.invoice_origin, 'Retainer')
        self.assertEqual(schedule.next_invoice_date, self._d('2026-12-01'))
        self.assertEqual(schedule.invoice_count, 1)
        progress = self.env['ir.cron.progress'].search([('cron_id', '=', self.recurring_cron.id)], order='id desc',
                                                       limit=1)
        self.assertEqual(progress.remaining, 0)
        self.assertFalse(self.env['ir.cron.trigger'].search([('cron_id', '=', self.recurring_cron.id)]),
                         "nothing left: the cron does not re-trigger itself")

    def test_catch_up_one_invoice_per_missed_period(self):
        schedule = self._schedule(start='2026-01-31')
        with self._at('2026-05-02'):  # the server was down since January
            self._run_recurring_cron()
        invoices = self._invoices(schedule)
        self.assertEqual(invoices.mapped('invoice_date'), [self._d(day) for day in (
            '2026-01-31', '2026-02-28', '2026-03-31', '2026-04-30')])
        self.assertEqual(len(set(invoices.mapped('recurring_period_start'))), 4)
        with self._at('2026-05-03'):
            self._run_recurring_cron()
        self.assertEqual(len(self._invoices(schedule)), 4)
        self.assertEqual(schedule.next_invoice_date, self._d('2026-05-31'))

    def test_ends_by_date_and_by_count(self):
        by_date = self._schedule(start='2026-01-01', date_end='2026-03-01')
        by_count = self._schedule(start='2026-01-01', max_invoices=2)
        with self._at('2026-06-01'):
            self._run_recurring_cron()
        self.assertEqual(len(self._invoices(by_date)), 3, "January, February and March (starting on the end date)")
        self.assertEqual(len(self._invoices(by_count)), 2)
        for schedule in by_date | by_count:
            self.assertEqual(schedule.state, 'done')
            self.assertFalse(schedule.next_invoice_date)
            self.assertFalse(schedule.next_dates_display)
        by_hand = self._schedule(start='2026-01-01')
        by_hand.action_end()
        with self._at('2026-06-01'):
            self._run_recurring_cron()
        self.assertFalse(self._invoices(by_hand), "ending stops it")

    def test_pause_skips_periods_and_resume_does_not_back_bill(self):
        schedule = self._schedule(start='2026-01-01')
        with self._at('2026-01-01'):
            self._run_recurring_cron()
        schedule.action_pause()
        with self._at('2026-03-01'):
            self._run_recurring_cron()
        self.assertEqual(len(self._invoices(schedule)), 1, "paused: nothing")
        with self._at('2026-04-15'):
            schedule.action_resume()
            self.assertEqual(schedule.next_invoice_date, self._d('2026-05-01'))
            self._run_recurring_cron()
        self.assertEqual(len(self._invoices(schedule)), 1, "February to April are not billed after the pause")
        with self._at('2026-05-01'):
            self._run_recurring_cron()
        self.assertEqual(self._invoices(schedule).mapped('invoice_date'),
                         [self._d('2026-01-01'), self._d('2026-05-01')])

    def test_price_change_applies_from_the_next_period(self):
        schedule = self._schedule(start='2026-01-01')
        with self._at('2026-01-01'):
            self._run_recurring_cron()
        schedule.line_ids.price_unit = 1200.0
        with self._at('2026-02-01'):
            self._run_recurring_cron()
        self.assertEqual(self._invoices(schedule).mapped('amount_total'), [1000.0, 1200.0])

    def test_without_auto_post_invoices_wait_in_draft_once(self):
        schedule = self._schedule(start='2026-01-01', auto_post=False)
        with self._at('2026-01-01'):
            self._run_recurring_cron()
            self._run_recurring_cron()
        invoice = self._invoices(schedule)
        self.assertEqual(len(invoice), 1)
        self.assertEqual(invoice.state, 'draft', "left for a person to check and post")
        self.assertFalse(invoice.is_move_sent)
        self.assertEqual(schedule.next_invoice_date, self._d('2026-02-01'))

    def test_currency_taxes_and_payment_terms(self):
        currency = self.setup_other_currency('EUR')
        schedule = self._schedule(
            start='2026-01-01', currency_id=currency.id, payment_term_id=self.pay_terms_a.id,
            lines=[Command.create({'product_id': self.product_a.id, 'name': 'Licence', 'quantity': 2.0,
                                   'price_unit': 500.0, 'tax_ids': [Command.set(self.tax_sale_a.ids)]})])
        with self._at('2026-01-01'):
            self._run_recurring_cron()
        invoice = self._invoices(schedule)
        self.assertEqual(invoice.currency_id, currency)
        self.assertEqual(invoice.invoice_line_ids.tax_ids, self.tax_sale_a)
        self.assertEqual(invoice.amount_untaxed, 1000.0)
        self.assertEqual(invoice.amount_total, 1000.0 + self.tax_sale_a.amount * 10.0)
        self.assertEqual(invoice.invoice_payment_term_id, self.pay_terms_a)

    def _run_send_cron(self):
        """Run Odoo's own invoice sending job the way the cron worker does."""
        with self.enter_registry_test_mode():
            self.env.ref('account.ir_cron_account_move_send').method_direct_trigger()
        self.env.invalidate_all()

    def test_auto_send_goes_through_the_queue_then_reminders_follow(self):
        template = self.env.ref('account.email_template_edi_invoice').copy({
            'subject': "Your retainer {{ object.name }}"})
        schedule = self._schedule(start='2026-01-01', auto_send=True, mail_template_id=template.id,
                                  followup_policy_id=self.policy.id, payment_term_id=False)
        self.partner_a.followup_policy_id = False
        with self._at('2026-01-01'), self.mock_mail_gateway():
            self._run_recurring_cron()
            self.assertEqual(self.connect_mocked.call_count, 0, "no SMTP connection inside the recurring cron")
            self.assertFalse(self._new_mails, "no e-mail is even built inside the recurring cron")
        invoice = self._invoices(schedule)
        self.assertEqual(invoice.state, 'posted')
        self.assertTrue(invoice.sending_data, "handed to Odoo's own sending job")
        self.assertFalse(invoice.is_move_sent)
        self.assertFalse(invoice.invoice_pdf_report_id, "the PDF is not rendered inside the recurring cron either")
        with self._at('2026-01-01'), self.mock_mail_gateway():
            self._run_send_cron()
            self.assertEqual(self.connect_mocked.call_count, 0, "Odoo's sending job queues the e-mail")
        self.assertTrue(invoice.is_move_sent, "marked as sent by Odoo's invoice sending")
        self.assertFalse(invoice.sending_data)
        self.assertTrue(invoice.invoice_pdf_report_id, "its PDF is generated and stored")
        message = invoice.message_ids.filtered(lambda msg: msg.message_type == 'comment' and self.partner_a in
                                               msg.partner_ids)
        self.assertEqual(len(message), 1)
        self.assertEqual(message.subject, f"Your retainer {invoice.name}", "with the schedule's e-mail template")
        self.assertTrue(message.attachment_ids, "the PDF goes with the e-mail")
        mail = self.env['mail.mail'].search([('mail_message_id', '=', message.id)])
        self.assertEqual(mail.state, 'outgoing', "queued for the mail queue")
        self.assertEqual(invoice.followup_policy_id, self.policy)
        self.assertEqual(invoice.followup_state, 'active')
        with self._at('2026-01-08'):  # due on the invoice date: a week late
            self._run_cron()
        self.assertEqual(self._logs(invoice).step_id, self.step_late_7, "then the reminder cadence follows")

    def test_invoice_now_sends_nothing_synchronously(self):
        schedule = self._schedule(start='2026-01-01', auto_send=True)
        with self._at('2026-01-01'), self.mock_mail_gateway():
            schedule.action_generate_now()
            self.assertEqual(self.connect_mocked.call_count, 0, "no SMTP connection in the user's request")
            self.assertFalse(self._new_mails)
        self.assertTrue(self._invoices(schedule).sending_data, "queued for Odoo's sending job")

    def test_failing_schedule_is_recorded_once_and_blocks_nothing(self):
        self.partner_b.email = False
        failing = self._schedule(start='2026-01-01', partner_id=self.partner_b.id, auto_send=True)
        healthy = self._schedule(start='2026-01-01')
        later = self._schedule(start='2026-01-01')
        with self._at('2026-01-01'), mute_logger('odoo.addons.invoice_followup.models.invoice_followup_recurring'):
            self._run_recurring_cron()
            self._run_recurring_cron()
        self.assertFalse(self._invoices(failing), "nothing half-done: no invoice without its e-mail")
        self.assertEqual(len(self._invoices(healthy)), 1)
        self.assertEqual(len(self._invoices(later)), 1)
        self.assertIn("has no e-mail address", failing.error_message)
        self.assertEqual(failing.error_date, self._d('2026-01-01'))
        self.assertFalse(self.env['ir.cron.trigger'].search([('cron_id', '=', self.recurring_cron.id)]),
                         "the failing schedule left the run: no loop")
        with self._at('2026-01-02'), mute_logger('odoo.addons.invoice_followup.models.invoice_followup_recurring'):
            self._run_recurring_cron()  # retried the next day, still failing
        activity = failing.activity_ids
        self.assertEqual(len(activity), 1, "one to-do for the person in charge, not one per run")
        case = self.env['invoice.followup.case'].search([('partner_id', '=', self.partner_b.id)])
        self.assertEqual((len(case), case.reason), (1, 'failure'), "one case on the collections board")
        self.assertIn(failing.display_name, case.message_ids[0].body)
        self.assertEqual(activity.summary, "Recurring invoice failed")
        self.partner_b.email = 'customer.b@example.com'
        with self._at('2026-01-03'):
            self._run_recurring_cron()
        self.assertEqual(len(self._invoices(failing)), 1)
        self.assertTrue(self._invoices(failing).sending_data, "queued for sending")
        self.assertFalse(failing.error_message, "cleared on success")
        self.assertFalse(failing.activity_ids)

    def test_resume_clears_the_error(self):
        self.partner_b.email = False
        failing = self._schedule(start='2026-01-01', partner_id=self.partner_b.id, auto_send=True)
        with self._at('2026-01-01'), mute_logger('odoo.addons.invoice_followup.models.invoice_followup_recurring'):
            self._run_recurring_cron()
        self.assertTrue(failing.error_message)
        self.partner_b.email = 'customer.b@example.com'
        with self._at('2026-01-01'):
            failing.action_resume()
            self.assertFalse(failing.error_message)
            self._run_recurring_cron()
        self.assertEqual(len(self._invoices(failing)), 1, "back in today's run once resumed")

    def test_crash_mid_batch_then_rerun_bills_each_period_once(self):
        schedules = self._schedule(start='2026-01-01') | self._schedule(start='2026-01-01') \
            | self._schedule(start='2026-01-01')
        Cron = self.registry['ir.cron']
        original = Cron._commit_progress
        done = []

        def commit_then_die(this, processed=0, **kwargs):
            result = original(this, processed, **kwargs)
            if processed == 1:
                done.append(processed)
                if len(done) == 1:
                    raise RuntimeError("worker killed")  # right after the first schedule was committed
            return result

        with self._at('2026-02-01'), patch.object(Cron, '_commit_progress', commit_then_die), \
                self.assertLogs('odoo.addons.base.models.ir_cron', 'ERROR') as logs:
            self._run_recurring_cron()
        self.assertIn("worker killed", "\n".join(logs.output), "it did crash after the first schedule")
        # The cron worker runs the job again after a crash that committed progress: it picks up where it died.
        self.assertEqual([len(self._invoices(schedule)) for schedule in schedules], [2, 2, 2])
        with self._at('2026-02-01'):
            self._run_recurring_cron()
        self.assertEqual([len(self._invoices(schedule)) for schedule in schedules], [2, 2, 2],
                         "a re-run bills nothing twice")
        self.assertEqual(len(set(self._invoices(schedules).mapped(lambda move: (
            move.recurring_id, move.recurring_period_start)))), 6)

    def test_crash_between_periods_keeps_the_committed_ones(self):
        schedule = self._schedule(start='2026-01-01')
        Recurring = self.registry['invoice.followup.recurring']
        original = Recurring._generate_period

        def fail_on_march(this, index):
            if index == 2:
                raise RuntimeError("disk full")
            return original(this, index)

        with self._at('2026-04-01'), patch.object(Recurring, '_generate_period', fail_on_march), \
                mute_logger('odoo.addons.invoice_followup.models.invoice_followup_recurring'):
            self._run_recurring_cron()
        self.assertEqual(len(self._invoices(schedule)), 2, "January and February are kept")
        self.assertEqual(schedule.error_message, "disk full")
        with self._at('2026-04-02'):
            self._run_recurring_cron()
        self.assertEqual(self._invoices(schedule).mapped('invoice_date'), [self._d(day) for day in (
            '2026-01-01', '2026-02-01', '2026-03-01', '2026-04-01')])

    def test_concurrent_run_never_bills_twice(self):
        schedule = self._schedule(start='2026-01-01')
        # Another worker (or "Invoice now") issued January, and committed it after this run read the schedule.
        with self._at('2026-01-01'):
            concurrent = schedule._generate_period(0)
        self.assertEqual(schedule.period_index, 0, "this run still sees January as due")
        Recurring = self.registry['invoice.followup.recurring']
        with self._at('2026-01-01'), mute_logger('odoo.sql_db'), patch.object(
                Recurring, '_existing_invoice', lambda this, start: this.env['account.move']):
            self._run_recurring_cron()  # its check comes too late: the unique index refuses the second January
        self.assertEqual(self._invoices(schedule), concurrent)
        self.assertFalse(schedule.error_message, "a lost race is not an error")
        with self._at('2026-01-01'):
            self._run_recurring_cron()
        self.assertEqual(self._invoices(schedule), concurrent)
        self.assertEqual(schedule.period_index, 1, "it moves on past the period issued elsewhere")

    def test_unique_period_index_and_reissue_after_cancel(self):
        schedule = self._schedule(start='2026-01-01')
        with self._at('2026-01-01'):
            self._run_recurring_cron()
        invoice = self._invoices(schedule)
        with self.assertRaises(psycopg2.errors.UniqueViolation), mute_logger('odoo.sql_db'), self.cr.savepoint():
            self.env['account.move'].create(schedule._prepare_invoice_vals(0))
            self.env.flush_all()
        invoice.button_draft()
        invoice.button_cancel()
        reissued = schedule._generate_period(0)
        self.assertNotEqual(reissued, invoice, "a cancelled invoice lets its period be issued again")
        self.assertEqual(reissued.recurring_period_start, self._d('2026-01-01'))
