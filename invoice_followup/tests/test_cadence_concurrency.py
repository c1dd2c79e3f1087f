# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Two delivery workers, a payment and a killed worker, each in its own database transaction, on committed data.

The other tests run in one transaction; here each worker opens its own cursor, as two cron workers (two delivery
jobs, on one server or two) do, and commits. What this class commits it deletes again in its clean-up.
"""
import threading
from datetime import datetime
from unittest.mock import patch

from odoo import SUPERUSER_ID, api
from odoo.fields import Command
from odoo.orm.environments import Transaction
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from odoo.addons.mail.tests.common import freeze_all_time

WAIT = 20  # seconds a step may wait for another transaction before the test gives up on it


@tagged('post_install', '-at_install')
class TestCadenceConcurrency(TransactionCase):
    """Every queued reminder goes out exactly once and none for an invoice paid meanwhile, whatever the workers do:
    two at once, or one killed in the middle of a batch."""

    def setUp(self):
        super().setUp()
        self.data = {}
        self.addCleanup(self._delete_committed_data)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env.ref('base.main_company').with_context(tracking_disable=True)
            settings = {'email': 'billing@concurrency.example', 'followup_automation': True,
                        'followup_consolidate': False, 'followup_min_gap_days': 0}
            self.data['company'] = {fname: company[fname] for fname in settings}
            company.write(settings)
            income = env['account.account'].search(
                [('account_type', '=', 'income'), ('company_ids', 'in', company.id)], limit=1)
            journal = env['account.journal'].create({
                'name': 'Reminder concurrency', 'code': 'IFCC', 'type': 'sale', 'company_id': company.id,
                'default_account_id': income.id})
            policy = env['invoice.followup.policy'].create({
                'name': 'Concurrency', 'company_id': company.id, 'max_reminders': 0,
                'step_ids': [Command.create({
                    'name': 'On the day', 'offset_days': 0, 'tone': 'polite',
                    'mail_template_id': env.ref('invoice_followup.mail_template_followup_polite').id})],
            })
            partners = env['res.partner'].create([
                {'name': 'Concurrent Customer One', 'email': 'one@concurrency.example'},
                {'name': 'Concurrent Customer Two', 'email': 'two@concurrency.example'},
            ])
            self.data.update(journal=journal.id, policy=policy.id, partners=partners.ids)
            invoices = env['account.move'].create([{
                'move_type': 'out_invoice', 'partner_id': partner.id, 'journal_id': journal.id,
                'invoice_date': '2019-03-01', 'invoice_date_due': '2019-03-31', 'invoice_payment_term_id': False,
                'followup_policy_id': policy.id,
                'invoice_line_ids': [Command.create({'name': 'Service', 'quantity': 1, 'price_unit': 100.0 * (i + 1),
                                                     'tax_ids': []})],
            } for partner in partners for i in range(3)])
            self.data['invoices'] = invoices.ids
            invoices.action_post()
            cr.execute("SELECT COALESCE(MAX(id), 0) FROM ir_cron_trigger")
            self.data['last_trigger'] = cr.fetchone()[0]
        self.invoice_ids = self.data['invoices']

    def _delete_committed_data(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {'force_delete': True})
            Move = env['account.move']
            invoices = Move.browse(self.data.get('invoices', [])).exists()
            payments = env['account.payment'].search([('partner_id', 'in', self.data.get('partners', []))])
            invoices.line_ids.remove_move_reconcile()
            payments.action_draft()
            payments.move_id.posted_before = False
            payments.unlink()
            env['account.payment.register'].search([('partner_id', 'in', self.data.get('partners', []))]).unlink()
            env['invoice.followup.case'].search([('partner_id', 'in', self.data.get('partners', []))]).unlink()
            invoices.filtered(lambda move: move.state == 'posted').button_draft()
            invoices.posted_before = False
            invoices.unlink()  # with their reminders, messages, queued mails, activities and PDFs
            env['res.partner'].browse(self.data.get('partners', [])).exists().unlink()
            env['invoice.followup.policy'].browse(self.data.get('policy', [])).exists().unlink()
            env['account.journal'].browse(self.data.get('journal', [])).exists().unlink()
            if 'last_trigger' in self.data:
                cr.execute("DELETE FROM ir_cron_trigger WHERE id > %s", [self.data['last_trigger']])
            if 'company' in self.data:
                env.ref('base.main_company').with_context(tracking_disable=True).write(self.data['company'])

    def _queue(self):
        """The daily run's planning, committed: the six reminders queued, nothing sent yet."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env.ref('base.main_company')
            env['invoice.followup.queue'].with_company(company)._queue_due(company, company._followup_today(), 100)
            queued = env['invoice.followup.log'].search([('move_id', 'in', self.invoice_ids)])
            self.assertEqual(queued.mapped('state'), ['queued'] * 6)
            return queued.ids

    def _worker(self, name, failures, out=None):
        """One delivery job: its own transaction(s), as Odoo's cron runner gives it."""
        def run():
            try:
                with self.registry.cursor() as cr:
                    cr.execute("SET lock_timeout = '%ss'" % (2 * WAIT))  # never hang the test run
                    try:
                        # The test runner holds the registry's lock while tests run: hand the registry over.
                        cr.transaction = Transaction(self.registry)
                        env = api.Environment(cr, SUPERUSER_ID, {})
                        if out is not None:
                            cr.execute("SELECT pg_backend_pid()")
                            out['pid'] = cr.fetchone()[0]
                        env['invoice.followup.delivery']._deliver_queued(batch_size=3)
                    finally:
                        if not cr._cnx.closed:
                            cr.rollback()
                            cr.execute("RESET lock_timeout")
            except Exception as error:  # noqa: BLE001 - reported by the test
                failures.append((name, error))
        return threading.Thread(target=run, name=name)

    def _pay(self, payments):
        """Payments registered and committed by someone else: {invoice id: amount (None: all of it)}."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            for invoice_id, amount in payments.items():
                wizard = env['account.payment.register'].with_context(
                    active_model='account.move', active_ids=[invoice_id])
                wizard.create({'amount': amount} if amount else {})._create_payments()

    def _committed_outcome(self):
        """{invoice id: (sent reminders, e-mails of the invoice)} and the reminders left queued, as committed."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            logs = env['invoice.followup.log'].search([('move_id', 'in', self.invoice_ids)])
            mails = env['mail.mail'].search([('model', '=', 'account.move'), ('res_id', 'in', self.invoice_ids)])
            sent = {invoice_id: (
                len(logs.filtered(lambda log, i=invoice_id: log.move_id.id == i and log.state == 'sent')),
                len(mails.filtered(lambda mail, i=invoice_id: mail.res_id == i)),
            ) for invoice_id in self.invoice_ids}
            details = {log.move_id.id: {'state': log.state, 'note': log.note, 'amount_due': log.amount_due,
                                        'body': log.mail_id.body_html} for log in logs}
            return sent, logs.filtered(lambda log: log.state == 'queued').ids, details

    def test_two_workers_share_the_queue_and_a_payment_cancels(self):
        """1. the queue is planned and committed; payments land: all of the second invoice, a part of the third;
        2. worker A claims the first batch (customer one's three reminders) and holds it, not committed;
        3. worker B runs meanwhile: it skips A's batch at once (``SKIP LOCKED``), sends customer two's and ends;
        4. A goes on: under its lock it finds the paid invoice paid (cancelled, with the reason) and the partly
           paid one asking for what is left."""
        with freeze_all_time(datetime(2019, 4, 2, 12, 0)):
            self._queue()
        first, paid, part_paid = self.invoice_ids[:3]
        self._pay({paid: None, part_paid: 100.0})
        Delivery = self.registry['invoice.followup.delivery']
        deliver = Delivery._deliver
        events = {name: threading.Event() for name in ('A holds', 'A go')}
        batches = {'A': [], 'B': []}

        def traced(this, logs):
            worker = threading.current_thread().name
            if worker in batches:
                batches[worker].append(sorted(logs.move_id.ids))
            if worker == 'A' and len(batches['A']) == 1:
                events['A holds'].set()
                events['A go'].wait(WAIT)
            return deliver(this, logs)

        failures = []
        worker_a, worker_b = self._worker('A', failures), self._worker('B', failures)
        with freeze_all_time(datetime(2019, 4, 2, 12, 0)), patch.object(Delivery, '_deliver', traced), \
                self.assertNoLogs('odoo.sql_db', level='ERROR'):
            worker_a.start()
            self.assertTrue(events['A holds'].wait(WAIT), "A claimed its batch")
            worker_b.start()
            worker_b.join(WAIT)
            self.assertFalse(worker_b.is_alive(), "B did not wait for A's transaction")
            events['A go'].set()
            worker_a.join(4 * WAIT)
        self.assertFalse(worker_a.is_alive(), "A finished")
        self.assertEqual(failures, [])
        self.assertEqual(batches['A'][0], [first, paid, part_paid], "A claimed customer one's reminders")
        self.assertEqual(batches['B'], [sorted(self.invoice_ids[3:])], "B sent the others, never A's")

        sent, queued, details = self._committed_outcome()
        self.assertEqual(queued, [])
        due = [invoice_id for invoice_id in self.invoice_ids if invoice_id != paid]
        self.assertEqual({invoice_id: sent[invoice_id] for invoice_id in due}, dict.fromkeys(due, (1, 1)),
                         "every due reminder exactly once, one e-mail each")
        self.assertEqual(sent[paid], (0, 0), "nothing for the invoice paid meanwhile")
        self.assertEqual((details[paid]['state'], details[paid]['note']),
                         ('cancel', "Paid before the reminder went out."))
        self.assertEqual(details[part_paid]['amount_due'], 200.0, "the third invoice's reminder asks for what is left")
        self.assertIn('200.00', details[part_paid]['body'])

    def test_killed_worker_loses_nothing_and_sends_nothing_twice(self):
        """Worker A is killed (its database session terminated) in the middle of a batch, its messages and e-mails
        created but not committed; worker B then sends the whole queue: each reminder once, none lost."""
        with freeze_all_time(datetime(2019, 4, 2, 12, 0)):
            self._queue()
        Delivery = self.registry['invoice.followup.delivery']
        send_emails = Delivery._send_emails
        events = {name: threading.Event() for name in ('A mid-batch', 'A killed')}

        def traced(this, logs, *args, **kwargs):
            result = send_emails(this, logs, *args, **kwargs)
            if threading.current_thread().name == 'A':
                events['A mid-batch'].set()
                events['A killed'].wait(WAIT)
                this.env.cr.execute("SELECT 1")  # the dead session's next statement fails: the worker stops
            return result

        failures, session = [], {}
        worker_a = self._worker('A', failures, out=session)
        # The killed session's next statement is logged as an error by the worker: expected here.
        with freeze_all_time(datetime(2019, 4, 2, 12, 0)), patch.object(Delivery, '_send_emails', traced), \
                mute_logger('odoo.sql_db'):
            worker_a.start()
            self.assertTrue(events['A mid-batch'].wait(WAIT), "A created its batch's e-mails")
            with self.registry.cursor() as cr:
                cr.execute("SELECT pg_terminate_backend(%s)", [session['pid']])
                self.assertTrue(cr.fetchone()[0], "A's session killed")
            events['A killed'].set()
            worker_a.join(4 * WAIT)
            self.assertFalse(worker_a.is_alive())
            self.assertTrue(failures, "A died with its session")
            sent, queued, _details = self._committed_outcome()
            self.assertEqual(len(queued), 6, "nothing of A's batch was kept: all six still queued")
            self.assertEqual(set(sent.values()), {(0, 0)})
            failures.clear()
            worker_b = self._worker('B', failures)
            worker_b.start()
            worker_b.join(4 * WAIT)
        self.assertEqual(failures, [])
        sent, queued, _details = self._committed_outcome()
        self.assertEqual(queued, [])
        self.assertEqual(sent, dict.fromkeys(self.invoice_ids, (1, 1)), "each reminder sent once, none lost")
