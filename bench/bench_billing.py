"""Recurring and milestone invoicing, measured by bench_reminders.py in the benchmark database.

- Recurring generation rate: ``count`` monthly schedules due today, the recurring cron run once
  (``_cron_generate_recurring``): schedules per second until every invoice is created and posted; then
  ``send_count`` more with automatic sending on, where each invoice is handed to Odoo's own sending job (its PDF
  rendered and its e-mail queued there, after the timed run).
- Milestone invoicing latency: ``count`` fixed-price projects billed 50/50 with automatic reaching, posting and
  sending; the last task of a milestone is set done and committed, as a user's save would be. Timed per milestone:
  from that write to the invoice created, posted and handed to Odoo's send queue (what the user waits for), then
  the send queue's cron (``account.move._cron_account_move_send``) until the e-mail with its PDF is queued.
"""

import statistics
import time

from bench_data import log

from odoo.fields import Command


def _product(env):
    return env['product.product'].search([('name', '=', 'Bench service')], limit=1)


def measure_recurring(env, count, send_count):
    results = {}
    for label, size, auto_send in (('recurring', count, False), ('recurring_sent', send_count, True)):
        if not size:
            continue
        partners = env['res.partner'].create([
            {'name': f'{label} member {index}', 'email': f'{label}.{index}@bench.example'} for index in range(size)])
        schedules = env['invoice.followup.recurring'].create([{
            'name': f'Membership {index}',
            'partner_id': partner.id,
            'date_start': env.company._followup_today(),
            'interval_number': 1,
            'interval_unit': 'month',
            'auto_post': True,
            'auto_send': auto_send,
            'line_ids': [Command.create({'product_id': _product(env).id, 'name': 'Monthly membership',
                                         'quantity': 1.0, 'price_unit': 50.0, 'tax_ids': [Command.clear()]})],
        } for index, partner in enumerate(partners)])
        schedules.action_start()
        env.cr.commit()
        started = time.monotonic()
        env['invoice.followup.recurring']._cron_generate_recurring()
        elapsed = time.monotonic() - started
        env.invalidate_all()
        invoices = env['account.move'].search([('recurring_id', 'in', schedules.ids), ('state', '=', 'posted')])
        for _batch in range(len(invoices)):  # auto-sent invoices go through Odoo's own sending job (not timed)
            if not invoices.filtered('sending_data'):
                break
            env['account.move']._cron_account_move_send(job_count=50)
            env.cr.commit()
            env.invalidate_all()
        sent = invoices.filtered('is_move_sent')
        rate = len(invoices) / elapsed if elapsed else 0.0
        log(f"{label}: {len(schedules)} schedules, {len(invoices)} invoices posted ({len(sent)} sent with their PDF) "
            f"in {elapsed:.1f} s = {rate:.1f} schedules/s")
        results[label] = {'schedules': size, 'invoices': len(invoices), 'sent': len(sent),
                          'seconds': round(elapsed, 2), 'per_second': round(rate, 1)}
    return results


def measure_milestones(env, count):
    if not count:
        return {}
    env.user.group_ids += env.ref('project.group_project_milestone')
    partner = env['res.partner'].create({'name': 'Milestone customer', 'email': 'milestones@bench.example'})
    projects = env['project.project'].create([{
        'name': f'Fixed price {index}',
        'allow_milestones': True,
        'milestone_auto_reach': True,
        'billing_partner_id': partner.id,
        'billing_amount': 10000.0,
        'billing_currency_id': env.company.currency_id.id,
        'billing_product_id': _product(env).id,
        'billing_auto_post': True,
        'billing_auto_send': True,
        'milestone_ids': [Command.create({'name': f'Share {share + 1}', 'sequence': share,
                                          'invoice_percentage': 50.0}) for share in range(2)],
    } for index in range(count)])
    tasks = env['project.task'].create([{
        'name': f'Deliver {milestone.name}', 'project_id': milestone.project_id.id, 'milestone_id': milestone.id,
    } for milestone in projects.milestone_ids])
    env.cr.commit()
    reach, send = [], []
    for task in tasks.filtered(lambda task: task.milestone_id.sequence == 0):
        started = time.monotonic()
        task.state = '1_done'
        env.cr.commit()
        reach.append(time.monotonic() - started)
        invoice = task.milestone_id.invoice_id
        if invoice.state != 'posted':
            log(f"WARNING milestone {task.milestone_id.name}: invoice not posted")
        started = time.monotonic()
        env['account.move']._cron_account_move_send()
        env.cr.commit()
        send.append(time.monotonic() - started)
        env.invalidate_all()
        if not invoice.is_move_sent:
            log(f"WARNING milestone {task.milestone_id.name}: invoice not sent")
    result = {
        'milestones': len(reach),
        'reach_to_posted_ms': {'median': round(statistics.median(reach) * 1000), 'max': round(max(reach) * 1000)},
        'send_queue_to_mail_ms': {'median': round(statistics.median(send) * 1000), 'max': round(max(send) * 1000)},
    }
    log(f"milestones: {len(reach)} reached; task done to invoice posted and queued for sending: median "
        f"{result['reach_to_posted_ms']['median']} ms (max {result['reach_to_posted_ms']['max']}); send queue to "
        f"e-mail with PDF: median {result['send_queue_to_mail_ms']['median']} ms")
    return result
