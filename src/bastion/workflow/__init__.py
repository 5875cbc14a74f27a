"""Notice-and-action: notices, cases and clocks, decisions, statements of reasons, appeals and
repeat-offender measures (DSA Arts 16, 17, 20, 22, 23, 24(5); TAKE IT DOWN; India; UK).

Entry point: :class:`bastion.workflow.service.Workflow`; the steps live in ``notices``,
``cases``, ``queue``, ``decisions``, ``statements``, ``appeals`` and ``offenders``.
"""
