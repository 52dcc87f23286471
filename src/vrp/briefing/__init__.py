"""The briefing pack: one district's (or HIPS's) headline measures as slides for the PCC's briefing and DAP
meetings, written as PowerPoint (python-pptx) or PDF (the same slides as HTML, printed by chromium).

The content comes from the pages' own views, so a pack says exactly what the dashboard says to the same
audience: ``slides.collect`` gathers it, ``images.draw`` draws its charts, ``make.render`` writes either format."""
