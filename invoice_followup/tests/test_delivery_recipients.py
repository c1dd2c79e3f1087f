# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from unittest.mock import patch

from odoo.fields import Command
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import InvoiceFollowupCommon
from .test_cases import BOUNCE_DSN


@tagged('post_install', '-at_install')
class TestDeliveryRecipients(InvoiceFollowupCommon):
    """A reminder is sent, failed or bounced according to its e-mail to the customer, never a follower's copy."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.accountant = cls.env['res.users'].create({
            'name': 'Followed Accountant', 'login': 'followed.accountant', 'email': 'accountant@company.example',
            'group_ids': [Command.link(cls.env.ref('account.group_account_invoice').id)],
        })

    def _reminded_invoice(self):
        invoice = self._followup_invoice()
        invoice.message_subscribe(partner_ids=self.accountant.partner_id.ids)
        with self._at('2026-02-07'):
            self._run_cron()
        log = self._logs(invoice)
        self.assertTrue(log)
        return invoice, log

    def _mails_of(self, log):
        return self.env['mail.mail'].search([('mail_message_id', '=', log.mail_message_id.id)])

    def test_internal_followers_get_no_copy_by_default(self):
        _invoice, log = self._reminded_invoice()
        mails = self._mails_of(log)
        self.assertEqual(mails, log.mail_id, "one e-mail: the customer's")
        self.assertEqual(mails.recipient_ids, self.partner_a)
        self.assertEqual(log.email_to, 'customer.a@example.com')
        self.assertIn(self.accountant.partner_id, log.move_id.message_partner_ids, "still a follower of the invoice")

    def test_followers_copy_on_request_never_decides_the_reminder(self):
        self.company.followup_notify_followers = True
        _invoice, log = self._reminded_invoice()
        mails = self._mails_of(log)
        copy = mails - log.mail_id
        self.assertEqual(copy.recipient_ids, self.accountant.partner_id, "the follower got a copy")
        self.assertEqual(log.mail_id.recipient_ids, self.partner_a)

        # The follower's copy fails: the customer's reminder stays sent.
        with self.mock_mail_gateway(), patch.object(
                self.registry['ir.mail_server'], '_connect__', side_effect=ConnectionRefusedError("SMTP is down")), \
                mute_logger('odoo.addons.mail.models.mail_mail'):
            copy.send(raise_exception=False)
        self.assertEqual(copy.state, 'exception')
        self.assertEqual(log.state, 'sent')
        self.assertFalse(log.move_id.followup_error)

        # The follower's address bounces: not the customer's.
        self.format_and_process(
            BOUNCE_DSN, self.accountant.email, f'{self.alias_bounce}@{self.alias_domain}',
            subject='Undelivered Mail Returned to Sender', extra=log.message_id, target_model='account.move')
        self.assertEqual(log.state, 'sent')
        self.assertFalse(self.partner_a.followup_bounced_email, "the customer's address is not marked bounced")
        self.assertEqual(log.move_id.followup_state, 'active')

        # The customer's address bounces: that one counts.
        self.format_and_process(
            BOUNCE_DSN, self.partner_a.email, f'{self.alias_bounce}@{self.alias_domain}',
            subject='Undelivered Mail Returned to Sender', extra=log.message_id, target_model='account.move')
        self.assertEqual(log.state, 'bounced')
        self.assertEqual(self.partner_a.followup_bounced_email, 'customer.a@example.com')

    def test_threading_headers_are_cores(self):
        """The reminders' References and headers, computed for the whole batch at once, are what core's
        notification would give each of them: replies thread under the invoice's earlier e-mails."""
        invoices = self._followup_invoice() + self._followup_invoice(amount=500.0, partner=self.partner_b)
        for invoice in invoices:
            for number in range(5):
                invoice.message_post(body=f"E-mail {number}", message_type='comment',
                                     subtype_xmlid='mail.mt_comment')
            invoice.message_post(body="Internal note", message_type='comment', subtype_xmlid='mail.mt_note')
        self.company.alias_domain_id.bounce_alias = 'bounce'
        with self._at('2026-02-07'):
            self._run_cron()
        logs = self._logs(invoices)
        self.assertEqual(len(logs), 2)
        for log in logs:
            core = log.move_id._notify_by_email_get_base_mail_values(log.mail_message_id, [])
            self.assertEqual(log.mail_id.references, core['references'])
            self.assertEqual(len(core['references'].split()), 4, "three earlier e-mails and the reminder")
            self.assertEqual(log.mail_id.headers, core['headers'])
            self.assertIn('Return-Path', log.mail_id.headers)
