# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Two reminder crons and a payment, each in its own database transaction, on committed data.

The other tests run in one transaction; here each worker opens its own cursor, as two cron workers (or a cron and
a late worker of the previous run) do, and commits. What this class commits it deletes again in its clean-up.
"""
import threading
from datetime import datetime
from unittest.mock import patch

from odoo import SUPERUSER_ID, api
from odoo.fields import Command, Domain
from odoo.orm.environments import Transaction
from odoo.tests import TransactionCase, tagged

from odoo.addons.mail.tests.common import freeze_all_time

WAIT = 20  # seconds a step may wait for another transaction before the test gives up on it


@tagged('post_install', '-at_install')
class TestCadenceConcurrency(TransactionCase):
    """Every due reminder goes out exactly once and none for an invoice paid meanwhile, whatever two workers do."""

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

    def _worker(self, name, failures):
        """One cron worker: its own transaction(s), as Odoo's cron runner gives it."""
        def run():
            try:
                with self.registry.cursor() as cr:
                    cr.execute("SET lock_timeout = '%ss'" % (2 * WAIT))  # never hang the test run
                    try:
                        # The test runner holds the registry's lock while tests run: hand the registry over.
                        cr.transaction = Transaction(self.registry)
                        Move = api.Environment(cr, SUPERUSER_ID, {})['account.move']
                        company = Move.env.ref('base.main_company')
                        due = Move._followup_due_domain(company, company._followup_today()) & Domain(
                            'id', 'in', self.invoice_ids)
                        for _call in range(3):  # Odoo's cron runner calls again while invoices are left for later
                            Move._cron_send_reminders(batch_size=3)
                            if not Move.search_count(due):
                                break
                    finally:
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

    def test_two_workers_and_a_payment(self):
        """The script, each step in its own transaction:

        1. worker A selects and prepares the first batch (3 invoices of customer one); worker B selects the same;
        2. payments are committed while both workers hold that batch, its e-mails already rendered: all of the
           second invoice, a part of the third;
        3. A starts sending the first invoice's reminder: while A's transaction is open, B reaches that invoice
           and must leave it to A at once (the per-invoice lock), then waits until A is past the paid invoice;
        4. A reaches the paid invoices after its lock, as they are now (the re-check): nothing for the paid one,
           and the e-mail of the partly paid one rendered again for what is left;
        5. both workers run to the end, as Odoo's cron runner would, over the second batch (customer two) too.
        """
        first, paid, part_paid = self.invoice_ids[:3]
        Move = self.registry['account.move']
        process_one, run_step = Move._followup_cron_process_one, Move._followup_run_step
        events = {name: threading.Event() for name in (
            'A prepared', 'A go', 'B prepared', 'B go', 'A holds first', 'B passed first', 'A passed paid')}
        seen = {'A': [], 'B': []}
        results = {}

        def traced_process_one(this, move, *args, **kwargs):
            worker = threading.current_thread().name
            if worker not in seen:
                return process_one(this, move, *args, **kwargs)
            if not seen[worker]:  # its batch selected and prepared: wait for the script
                events[f'{worker} prepared'].set()
                results[f'{worker} let go'] = events[f'{worker} go'].wait(WAIT)
            if worker == 'B' and move.id == paid and 'B waited for A' not in results:
                results['B waited for A'] = events['A passed paid'].wait(WAIT)
            seen[worker].append(move.id)
            done = process_one(this, move, *args, **kwargs)
            if worker == 'B' and move.id == first and not events['B passed first'].is_set():
                results['B on first'] = done
                events['B passed first'].set()
            if worker == 'A' and move.id == paid:
                events['A passed paid'].set()
            return done

        def traced_run_step(this, *args, **kwargs):
            if threading.current_thread().name == 'A' and this.id == first:  # A sending, not committed yet
                events['A holds first'].set()
                results['B passed without waiting'] = events['B passed first'].wait(WAIT)
            return run_step(this, *args, **kwargs)

        failures = []
        worker_a, worker_b = self._worker('A', failures), self._worker('B', failures)
        with freeze_all_time(datetime(2019, 4, 2, 12, 0)), \
                patch.object(Move, '_followup_cron_process_one', traced_process_one), \
                patch.object(Move, '_followup_run_step', traced_run_step), \
                self.assertNoLogs('odoo.sql_db', level='ERROR'):
            worker_a.start()
            self.assertTrue(events['A prepared'].wait(WAIT), "A selected and prepared its batch")
            worker_b.start()
            self.assertTrue(events['B prepared'].wait(WAIT), "B selected and prepared the same batch")
            self._pay({paid: None, part_paid: 100.0})
            events['A go'].set()
            self.assertTrue(events['A holds first'].wait(WAIT))
            events['B go'].set()
            worker_a.join(4 * WAIT)
            worker_b.join(4 * WAIT)
        self.assertFalse(worker_a.is_alive() or worker_b.is_alive(), "both workers finished")
        self.assertEqual(failures, [])
        self.assertEqual(results.get('A let go'), True)
        self.assertEqual(seen['A'][:2], [first, paid], "A sent the first invoice, then came to the paid one")
        self.assertEqual(seen['B'][:1], [first], "both workers went for the same invoices at once")
        self.assertIs(results.get('B on first'), False, "B left the invoice A was sending to A")
        self.assertIs(results.get('B passed without waiting'), True, "B did not wait for A's transaction")
        self.assertIs(results.get('B waited for A'), True)

        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            Log = env['invoice.followup.log']
            sent = Log.search([('move_id', 'in', self.invoice_ids), ('state', '=', 'sent')])
            due = [invoice_id for invoice_id in self.invoice_ids if invoice_id != paid]
            self.assertEqual(sorted(sent.move_id.ids), due, "every due reminder exactly once")
            self.assertEqual(len(sent), len(due))
            self.assertEqual(len(sent.mail_message_id), len(due), "one message each")
            mails = env['mail.mail'].search([('mail_message_id', 'in', sent.mail_message_id.ids)])
            self.assertEqual(len(mails), len(due), "one e-mail each")
            self.assertFalse(env['mail.mail'].search_count([('model', '=', 'account.move'), ('res_id', '=', paid)]),
                             "nothing for the invoice paid meanwhile")
            rest = sent.filtered(lambda log: log.move_id.id == part_paid)
            self.assertEqual(rest.amount_due, 200.0, "the third invoice's reminder asks for what is left")
            rest_mail = mails.filtered(lambda mail: mail.mail_message_id == rest.mail_message_id)
            self.assertIn('200.00', rest_mail.body_html, "not the e-mail rendered before the payment")
            skipped = Log.search([('move_id', '=', paid)])
            self.assertEqual(skipped.state, 'skipped')
            self.assertEqual(skipped.note, "Paid before the reminder went out.")
            self.assertEqual(env['account.move'].browse(paid).followup_state, 'done')
