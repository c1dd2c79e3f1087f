"""Build invoice_followup/README.rst from the readme/*.md fragments (the OCA layout), so that the add-on's
description page and pylint-odoo's missing-readme check have one source: the fragments.

Usage: python scripts/gen_readme.py [--check]
"""

import re
import sys
from pathlib import Path

ADDON = Path(__file__).resolve().parents[1] / 'invoice_followup'
SECTIONS = [('DESCRIPTION', None), ('CONFIGURE', 'Configuration'), ('USAGE', 'Usage'),
            ('ROADMAP', 'Known issues / Roadmap'), ('CONTRIBUTORS', 'Contributors')]


def md_to_rst(text):
    text = re.sub(r'`([^`]+)`', r'``\1``', text)
    return text.strip() + '\n'


def build():
    title = 'Invoice Follow-up'
    out = ['=' * len(title), title, '=' * len(title), '',
           '.. This file is generated from readme/*.md by scripts/gen_readme.py: edit the fragments.', '']
    for name, heading in SECTIONS:
        path = ADDON / 'readme' / f'{name}.md'
        if not path.exists():
            continue
        if heading:
            out += [heading, '=' * len(heading), '']
        out += [md_to_rst(path.read_text()), '']
    return '\n'.join(out).rstrip() + '\n'


def main():
    target = ADDON / 'README.rst'
    content = build()
    if '--check' in sys.argv:
        if not target.exists() or target.read_text() != content:
            print('invoice_followup/README.rst is out of date: run python scripts/gen_readme.py')
            return 1
        return 0
    target.write_text(content)
    return 0


if __name__ == '__main__':
    sys.exit(main())
