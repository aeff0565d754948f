"""`channelctl plan` and what it is made of.

- ``build``: the plan — every stack rendered in release order, wired, checked;
- ``render``: one stack rendered on Pulumi's mock runtime;
- ``checks/``: one model of the rendered channel and one module per check;
- ``crossstack``: the rules that make several stack files one channel, before rendering;
- ``describe`` and ``output``: the plan as text and JSON;
- ``compare`` and ``replacements``: what a change does (``--compare``);
- ``diagram``: the Mermaid flowchart; ``deployer_policy``: the deployer roles' policies;
- ``command``: the command line.
"""
