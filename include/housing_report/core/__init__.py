"""The project's shared words, at the bottom of every stage: the data passed between stages
(`models`), the typed provincial summary (`summary`), unit statuses (`statuses`), Vietnamese
numbers and dates (`formatting`), text as units typed it (`text`) and the reporting periods
(`periods`). Nothing here imports the rest of the project.
"""
