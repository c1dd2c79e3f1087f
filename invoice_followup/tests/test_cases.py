# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import smtplib
from unittest.mock import patch

import psycopg2.errors

from odoo.fields import Command
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import InvoiceFollowupCommon

# A delivery status notification (RFC 3464) answering one of our messages, as a mail server sends it back.
BOUNCE_DSN = """Return-Path: <>
From: MAILER-DAEMON@mx.customer.example (Mail Delivery System)
To: {to}
Subject: {subject}
Date: Mon, 09 Feb 2026 10:00:00 +0000
Message-Id: {msg_id}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="dsn-boundary"

--dsn-boundary
Content-Type: text/plain; charset=us-ascii

Your message could not be delivered to {email_from}: no such user.

--dsn-boundary
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.customer.example

Final-Recipient: rfc822; {email_from}
Action: failed
Status: 5.1.1

--dsn-boundary
Content-Type: message/rfc822

Message-Id: {extra}
Subject: Reminder
To: {email_from}

Reminder body.

--dsn-boundary--
"""


@tagged('post_install', '-at_install')
class TestCollectionCases(InvoiceFollowupCommon):
    """Cases open by themselves for what automation must not handle alone, pause and resume the cadence."""

    def _cases(self, reason=None, partner=None):
        domain = [('partner_id', '=', (partner or self.partner_a).id)]
        if reason:
            domain.append(('reason', '=', reason))
        return self.env['invoice.followup.case'].search(domain)

    def _mails_to(self, partner):
        return self.env['mail.mail'].search([('recipient_ids', 'in', partner.ids)])

    def test_stages_shipped(self):
        stages = self.env['invoice.followup.case.stage'].search([])
        self.assertEqual(stages.mapped('name')[:4], ['New', 'In progress', 'Waiting on customer', 'Resolved'])
        self.assertEqual(stages.filtered('is_resolved'), self.env.ref('invoice_followup.case_stage_resolved'))
        self.assertTrue(self.env.ref('invoice_followup.case_stage_resolved').fold)

    def test_after_n_reminders_a_person_calls_once(self):
        self.policy.max_reminders = 2
        invoice = self._followup_invoice(due='2026-01-31')
        with self._at('2026-01-24'):
            self._run_cron()
        self.assertFalse(self._cases('max_reminders'))
        with self._at('2026-01-31'):
            self._run_cron()
        case = self._cases('max_reminders')
        self.assertEqual(len(case), 1)
        self.assertEqual(case.move_ids, invoice)
        self.assertEqual(case.stage_id, self.env.ref('invoice_followup.case_stage_new'))
        self.assertIn('Call the customer', case.next_action)
        with self._at('2026-02-07'):
            self._run_cron()
        self.assertEqual(len(self._cases('max_reminders')), 1, "one open case per customer and reason")
        self.assertEqual(invoice.followup_state, 'active', "reminding too often does not pause the cadence")

    def test_firm_step_of_a_strategic_customer_goes_to_a_person(self):
        self.partner_a.followup_strategic = True
        invoice = self._followup_invoice(due='2026-01-31')
        with self._at('2026-01-31'):
            self._run_cron()
        self.assertEqual(self._logs(invoice).step_id, self.step_due, "polite steps go out as usual")
        with self._at('2026-02-07'):
            self._run_cron()
        self.assertEqual(len(self._logs(invoice)), 1, "the firm step is not e-mailed")
        case = self._cases('high_value')
        self.assertEqual(case.move_ids, invoice)
        held = self._logs(invoice, states=('skipped',)).filtered(lambda log: log.step_id == self.step_late_7)
        self.assertIn('Handed to a person', held.note)
        self.assertEqual(invoice.followup_state, 'paused')
        self.assertFalse(invoice.followup_next_date)
        case.action_resolve()
        self.assertEqual(invoice.followup_state, 'active')
        self.assertEqual(invoice.followup_next_step_id, self.step_late_14, "resumes at the next step, no burst")

    def test_high_value_threshold(self):
        self.policy.high_value_amount = 5000.0
        small = self._followup_invoice(amount=1000.0)
        large = self._followup_invoice(amount=8000.0)
        with self._at('2026-02-07'):
            self._run_cron()
        self.assertTrue(self._logs(small))
        self.assertFalse(self._logs(large))
        self.assertEqual(self._cases('high_value').move_ids, large)

    def test_dispute_pauses_until_resolved_then_one_reminder(self):
        invoice = self._followup_invoice(due='2026-01-31')
        case = self.env['invoice.followup.case']._followup_open(invoice, 'dispute', body="Wrong amount")
        self.assertEqual(invoice.followup_state, 'paused')
        self.assertFalse(invoice.followup_next_date, "only a person ends a dispute")
        with self._at('2026-02-20'):
            self._run_cron()
        self.assertFalse(self._logs(invoice))
        case.action_resolve()
        self.assertEqual(invoice.followup_state, 'active')
        with self._at('2026-02-20'):
            self._run_cron()
        self.assertEqual(self._logs(invoice).step_id, self.step_late_14, "the latest due step, once")
        self.assertEqual(len(self._mails_to(self.partner_a)), 1)

    def test_promise_kept_or_broken(self):
        kept = self._followup_invoice(due='2026-01-31')
        broken = self._followup_invoice(due='2026-01-31')
        Case = self.env['invoice.followup.case']
        Case._followup_open(kept, 'promise', promise_date=self._d('2026-02-10'))
        promise = self._cases('promise')
        Case._followup_open(broken, 'promise', promise_date=self._d('2026-02-10'))
        self.assertEqual(promise.move_ids, kept | broken, "one promise case per customer")
        self.assertEqual(kept.followup_next_date, self._d('2026-02-11'))
        with self._at('2026-02-05'):
            self._run_cron()
        self.assertFalse(self._logs(kept | broken), "no reminder while a promise holds")
        self._register_payment(kept)
        with self._at('2026-02-11'):
            self._run_cron()
        self.assertFalse(promise.is_open, "the promise closed")
        self.assertFalse(self._logs(kept))
        broken_case = self._cases('broken_promise')
        self.assertEqual(broken_case.move_ids, broken)
        self.assertEqual(self._logs(broken).step_id, self.step_late_7, "the cadence resumed with one reminder")
        with self._at('2026-02-11'):
            self._run_cron()
        self.assertEqual(len(self._logs(broken)), 1)
        self.assertEqual(len(self._cases('broken_promise')), 1)

    def test_paid_invoices_close_their_cases(self):
        invoice = self._followup_invoice()
        case = self.env['invoice.followup.case']._followup_open(invoice, 'dispute')
        self._register_payment(invoice)
        with self._at('2026-02-07'):
            self._run_cron()
        self.assertFalse(case.is_open)

    def test_approved_plan_drives_reminders(self):
        invoice = self._followup_invoice(amount=900.0, due='2026-01-31')
        case = self.env['invoice.followup.case']._followup_open(
            invoice, 'payment_plan', plan_state='proposed', plan_line_ids=[
                Command.create({'date': '2026-02-10', 'amount': 300.0}),
                Command.create({'date': '2026-03-10', 'amount': 300.0}),
                Command.create({'date': '2026-04-10', 'amount': 300.0}),
            ])
        self.assertFalse(invoice.followup_next_date, "a proposed plan waits for a person")
        case.action_approve_plan()
        self.assertEqual(invoice.followup_next_date, self._d('2026-02-11'))
        self._register_payment(invoice, amount=300.0)
        with self._at('2026-02-11'):
            self._run_cron()
        self.assertTrue(case.is_open, "on track")
        self.assertTrue(case.plan_line_ids[0].is_checked)
        self.assertFalse(self._logs(invoice))
        self.assertEqual(invoice.followup_next_date, self._d('2026-03-11'))
        with self._at('2026-03-11'):
            self._run_cron()
        self.assertFalse(case.is_open, "the March installment was missed")
        self.assertEqual(self._cases('broken_promise').move_ids, invoice)
        self.assertEqual(len(self._logs(invoice)), 1, "reminders resumed")

    def test_no_email_then_address_added(self):
        self.partner_a.email = False
        invoice = self._followup_invoice()
        with self._at('2026-02-07'), self._warns():
            self._run_cron()
        case = self._cases('no_email')
        self.assertEqual(case.move_ids, invoice)
        self.assertEqual(invoice.followup_state, 'exception')
        self.partner_a.email = 'new.address@example.com'
        self.assertFalse(case.is_open)
        self.assertEqual(invoice.followup_state, 'active', "a new address resumes the reminders")
        with self._at('2026-02-07'):
            self._run_cron()
        self.assertEqual(self._logs(invoice).step_id, self.step_late_7)

    def test_failure_case_resolved_by_resume(self):
        self.template_firm.body_html = '<p t-out="object.no_such_field"/>'
        invoice = self._followup_invoice()
        with self._at('2026-02-07'), self._warns():
            self._run_cron()
        case = self._cases('failure')
        self.assertEqual(case.move_ids, invoice)
        invoice.action_followup_resume()
        self.assertFalse(case.is_open)

    def test_repeated_partial_payments_warn_early(self):
        invoice = self._followup_invoice(amount=1000.0)
        self._register_payment(invoice, amount=100.0)
        self._register_payment(invoice, amount=100.0)
        with self._at('2026-02-07'):
            self._run_cron()
        self.assertEqual(self._cases('partial_payments').move_ids, invoice)

    def test_one_open_case_per_customer_and_reason(self):
        invoice = self._followup_invoice()
        Case = self.env['invoice.followup.case']
        first = Case._followup_open(invoice, 'dispute')
        self.assertEqual(Case._followup_open(invoice, 'dispute'), first)
        with self.assertRaises(psycopg2.errors.UniqueViolation), mute_logger('odoo.sql_db'), self.cr.savepoint():
            Case.create({'partner_id': self.partner_a.id, 'reason': 'dispute', 'company_id': self.company.id})
            self.env.flush_all()
        first.action_resolve()
        second = Case._followup_open(invoice, 'dispute')
        self.assertNotEqual(second, first, "a resolved case lets a new one open")

    def test_bounce_recorded_after_planning_stops_the_email(self):
        invoices = self._followup_invoice() | self._followup_invoice()
        Delivery = self.registry['invoice.followup.delivery']
        original = Delivery._deliver

        def bounce_before_delivery(this, logs):
            # Recorded by the mail gateway's own transaction once the queue is planned, not through this cache.
            self.env.flush_all()
            self.env.cr.execute("UPDATE res_partner SET followup_bounced_email = email_normalized WHERE id = %s",
                                [self.partner_a.id])
            return original(this, logs)

        with self._at('2026-02-07'), patch.object(Delivery, '_deliver', bounce_before_delivery):
            self._run_cron()
        self.assertFalse(self._logs(invoices), "no e-mail to an address that just bounced")
        cancelled = self._logs(invoices, states=('cancel',))
        self.assertEqual(cancelled.move_id, invoices)
        self.assertEqual(set(cancelled.mapped('note')), {"The address bounced before the reminder went out."})
        self.assertEqual(self._cases('bounce').move_ids, invoices)

    def test_bounce_marks_the_reminder_and_stops_emailing_the_address(self):
        invoice = self._followup_invoice()
        other = self._followup_invoice(partner=self.partner_b)
        with self._at('2026-02-07'):
            self._run_cron()
        log = self._logs(invoice)
        self.assertTrue(log.message_id)
        self.format_and_process(
            BOUNCE_DSN, self.partner_a.email, f'{self.alias_bounce}@{self.alias_domain}',
            subject='Undelivered Mail Returned to Sender', extra=log.message_id, target_model='account.move')
        self.assertEqual(log.state, 'bounced')
        self.assertEqual(self.partner_a.message_bounce, 1)
        self.assertEqual(self.partner_a.followup_bounced_email, 'customer.a@example.com')
        case = self._cases('bounce')
        self.assertEqual(case.move_ids, invoice)
        self.assertEqual(invoice.followup_state, 'paused')
        self.assertEqual(self._logs(other).state, 'sent', "another customer's reminder is untouched")
        self.assertFalse(self._cases(partner=self.partner_b))
        second = self._followup_invoice()
        with self._at('2026-02-14'):
            self._run_cron()
        self.assertFalse(self._logs(second), "no more e-mail to the bounced address")
        self.assertIn(second, self._cases('bounce').move_ids)
        self.partner_a.email = 'fixed@example.com'
        self.assertFalse(case.is_open)
        self.assertFalse(self.partner_a.followup_bounced_email)
        with self._at('2026-02-14'):
            self._run_cron()
        self.assertTrue(self._logs(second))

    def test_only_a_new_address_ends_a_bounce(self):
        invoice = self._followup_invoice()
        self.partner_a.followup_bounced_email = 'customer.a@example.com'
        case = self.env['invoice.followup.case']._followup_open(invoice, 'bounce')
        contact = self.env['res.partner'].create({
            'name': 'Accounts payable', 'parent_id': self.partner_a.id, 'type': 'other'})
        company_b = self.env['res.company'].create({'name': 'Elsewhere Ltd'})
        elsewhere = self.env['res.partner'].create({  # the customer's contact kept by another company
            'name': 'Customer A (Elsewhere)', 'parent_id': self.partner_a.id, 'company_id': company_b.id})
        self.assertEqual(elsewhere.commercial_partner_id, self.partner_a)
        for partner, email, what in (
            (self.partner_a, 'customer.a@example.com', "the same address, saved again"),
            (self.partner_a, '"Customer A" <Customer.A@Example.com>', "the same address, written differently"),
            (contact, 'payables@example.com', "another person of the customer, not the one reminded"),
            (elsewhere, 'customer.a.new@example.com', "an address in another company"),
        ):
            partner.email = email
            self.assertEqual(self.partner_a.followup_bounced_email, 'customer.a@example.com', what)
            self.assertTrue(case.is_open, what)
        self.assertEqual(invoice.followup_state, 'paused')
        with self._at('2026-02-07'):
            self._run_cron()
        self.assertFalse(self._logs(invoice), "no e-mail to the address that bounced")
        self.partner_a.email = 'fixed@example.com'
        self.assertFalse(self.partner_a.followup_bounced_email)
        self.assertFalse(case.is_open, "a new address ends the bounce")
        self.assertEqual(invoice.followup_state, 'active')

    def test_smtp_failure_in_the_mail_queue_opens_a_failure_case(self):
        invoice = self._followup_invoice()
        other = self._followup_invoice(partner=self.partner_b)
        with self._at('2026-02-07'):
            self._run_cron()
        self.assertFalse(self._cases('failure'))
        refused = smtplib.SMTPConnectError(421, b'4.3.2 Service not available')
        with self.mock_mail_gateway(), mute_logger('odoo.addons.mail.models.mail_mail'), patch.object(
                self.registry['ir.mail_server'], '_connect__', side_effect=refused), self._warns():
            self.env['mail.mail'].process_email_queue()
        mails = self._mails_to(self.partner_a) | self._mails_to(self.partner_b)
        self.assertEqual(set(mails.mapped('state')), {'exception'}, "the queue failed on SMTP")
        case = self._cases('failure')
        self.assertEqual(case.move_ids, invoice, "a person is asked to look at it")
        self.assertEqual(case.company_id, self.company)
        self.assertIn('Service not available', case.message_ids[0].body)
        self.assertEqual(self._cases('failure', partner=self.partner_b).move_ids, other, "one case per customer")
        self.assertEqual(invoice.followup_state, 'exception')
        with self.mock_mail_gateway():
            self._mails_to(self.partner_a).action_retry()
            self.env['mail.mail'].process_email_queue()
        self.assertEqual(self._mails_to(self.partner_a).state, 'sent')
        self.assertFalse(case.is_open, "delivered after all: the case closes itself")
        self.assertEqual(invoice.followup_state, 'active')
        self.assertTrue(self._cases('failure', partner=self.partner_b).is_open, "the other customer's is still due")

    def test_case_board_actions(self):
        invoice = self._followup_invoice()
        case = self.env['invoice.followup.case']._followup_open(invoice, 'max_reminders')
        with self._at('2026-02-07'):
            case.action_schedule_call()
            self.assertEqual(case.activity_ids.activity_type_id, self.env.ref('mail.mail_activity_data_call'))
            before = case.next_action_date
            case.action_snooze()
            self.assertEqual((case.next_action_date - before).days, 7)
            case.action_send_next_reminder()
        self.assertEqual(self._logs(invoice).step_id, self.step_late_7)
        self.assertEqual(case.amount_due, 1000.0)
        self.assertEqual(invoice.followup_case_count, 1)
        self.assertEqual(self.partner_a.followup_case_count, 1)
        case.action_resolve()
        self.assertFalse(case.activity_ids, "resolving closes the case's to-dos")
