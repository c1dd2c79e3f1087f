"""Merge the results of bench_reminders.py (ours, the floor) and bench_peer.py (OCA account_credit_control) of the
same day into one table (Markdown, as in the README) and one JSON file: bench/results/bench-<date>.json.

Usage: python3 bench/bench_table.py [results directory]   (run by scripts/bench.sh)
"""

import json
import sys
from datetime import date
from pathlib import Path


def ratio(ours, other):
    return round(ours / other, 1) if other else None


def main():
    results_dir = Path(sys.argv[1] if len(sys.argv) > 1 else 'bench/results')
    today = date.today().isoformat()
    ours = json.loads((results_dir / f'ours-{today}.json').read_text())
    peer_file = results_dir / f'peer-{today}.json'
    peer = json.loads(peer_file.read_text()) if peer_file.exists() else None
    stored, rendered, floor = ours['existing_pdf'], ours['rendered_pdf'], ours['floor']
    def ours_note(row):
        return f"{row['mails_queued']} mails, peak {row.get('peak_memory_mib')} MiB"

    rows = [('ours, stored PDF (cron)', stored, ours_note(stored))]
    if 'consolidated' in ours:
        rows.append(('ours, stored PDF, 1 e-mail per customer (cron, consolidated)', ours['consolidated'],
                     ours_note(ours['consolidated'])))
    for key in ('workers_1', 'workers_2'):
        if row := ours.get(key):
            rows.append((f"ours, delivery of the queue on {row['workers']} worker process(es), stored PDF", row,
                         f"{row['mails_queued']} mails, {row['left_queued']} left queued"))
    rows += [
        ('ours, PDF rendered (cron)', rendered, ours_note(rendered)),
        ('floor: Odoo message_post_with_source, stored PDF', floor, f"{floor['mails_queued']} mails"),
    ]
    if peer:
        p = peer['peer']
        rows.append((f"peer: OCA {peer['module']}, run + e-mail action", p,
                     f"{p['communications']} mails (1 per customer, summary PDF rendered each), "
                     f"{p['emails_per_second']} mails/s"))
        if 'peer_no_pdf' in peer:
            q = peer['peer_no_pdf']
            rows.append(('peer, template without its summary PDF', q,
                         f"{q['communications']} mails, no attachment, {q['emails_per_second']} mails/s"))
    summary = {
        'machine': ours['machine'], 'date': ours['date'], 'sizes': ours['sizes'],
        'rows': [{'measure': label, **row} for label, row, _note in rows],
        'idle_run': ours['idle_run'], 'idle_run_orm': ours.get('idle_run_orm'),
        'peak_memory_mib': ours['peak_memory_mib'],
        'recurring': ours.get('recurring'), 'recurring_sent': ours.get('recurring_sent'),
        'milestones': ours.get('milestones'),
        'ratios': {
            'ours_stored_vs_floor': ratio(stored['per_second'], floor['per_second']),
            'two_workers_vs_one': ratio(ours['workers_2']['per_second'], ours['workers_1']['per_second'])
            if 'workers_2' in ours else None,
            'ours_stored_vs_peer': ratio(stored['per_second'], peer['peer']['per_second']) if peer else None,
            'ours_rendered_vs_peer': ratio(rendered['per_second'], peer['peer']['per_second']) if peer else None,
            'ours_consolidated_vs_peer': ratio(ours['consolidated']['per_second'], peer['peer']['per_second'])
            if peer and 'consolidated' in ours else None,
            'ours_consolidated_vs_peer_no_pdf': ratio(ours['consolidated']['per_second'],
                                                      peer['peer_no_pdf']['per_second'])
            if peer and 'peer_no_pdf' in peer and 'consolidated' in ours else None,
            'ours_stored_vs_peer_no_pdf': ratio(stored['per_second'], peer['peer_no_pdf']['per_second'])
            if peer and 'peer_no_pdf' in peer else None,
        },
        'peer_module': peer and peer['module'],
    }
    lines = [
        f"Machine: {ours['machine']}; date {ours['date']}; sizes: {ours['sizes']}",
        '',
        '| measure | invoices reminded | seconds | invoices/s | SQL queries per invoice | note |',
        '|---|---|---|---|---|---|',
    ]
    for label, row, note in rows:
        lines.append(f"| {label} | {row['reminders']} | {row['seconds']} | {row['per_second']} | "
                     f"{row.get('queries_per_reminder', '')} | {note} |")
    idle_runs = [ours.get('idle_run_orm'), ours['idle_run']]
    if idle_runs[0] and idle_runs[0]['invoices'] == idle_runs[1]['invoices']:
        idle_runs = idle_runs[1:]  # no copies made: one size
    for idle in idle_runs:
        if idle:
            lines.append(f"| idle run, nothing due (cron; slowest of {len(idle.get('runs', [1]))}) | "
                         f"{idle['invoices']:,} invoices | {idle['seconds']} | | | |")
    lines.append(f"| worker peak memory during a reminder run (ours) | | | | | {ours['peak_memory_mib']} MiB |")
    for key, label in (('recurring', 'recurring cron, invoices posted'),
                       ('recurring_sent', 'recurring cron, invoices posted and queued for sending')):
        if row := ours.get(key):
            lines.append(f"| {label} | {row['invoices']} schedules | {row['seconds']} | {row['per_second']} "
                         f"schedules/s | | |")
    if milestones := ours.get('milestones'):
        reach, send = milestones['reach_to_posted_ms'], milestones['send_queue_to_mail_ms']
        lines.append(f"| milestone reached (last task done) to invoice posted and queued for sending | "
                     f"{milestones['milestones']} milestones | median {reach['median']} ms, max {reach['max']} ms "
                     f"| | | then Odoo's send queue: median {send['median']} ms to the e-mail with its PDF |")
    lines.append('')
    r = summary['ratios']
    lines.append(f"Ratios (invoices/s): ours stored PDF / floor = {r['ours_stored_vs_floor']}x; "
                 f"2 delivery workers / 1 = {r['two_workers_vs_one']}x; "
                 f"ours stored PDF / peer = {r['ours_stored_vs_peer']}x; "
                 f"ours consolidated / peer = {r['ours_consolidated_vs_peer']}x; "
                 f"ours PDF rendered / peer = {r['ours_rendered_vs_peer']}x; "
                 f"ours stored PDF / peer without PDF = {r['ours_stored_vs_peer_no_pdf']}x; "
                 f"ours consolidated / peer without PDF = {r['ours_consolidated_vs_peer_no_pdf']}x")
    print('\n'.join(lines))
    out = results_dir / f'bench-{today}.json'
    out.write_text(json.dumps(summary, indent=2))
    print(f"\nsaved {out}")


if __name__ == '__main__':
    main()
