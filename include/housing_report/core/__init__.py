"""The project's shared words, at the bottom of every stage: the data passed between stages
(`models`), the typed provincial summary (`summary`), unit statuses (`statuses`), Vietnamese
numbers and dates (`formatting`), text as units typed it (`text`), the reporting periods
(`periods`), and how a heavy step runs in its process (`runtime`: the garbage collector paused).
Nothing here imports the rest of the project.
"""
