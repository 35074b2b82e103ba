"""Personal data found in transcripts and taken out of them, and out of their audio.

Plain functions over words, text and audio files: nothing here knows a Django model, an engine, a
request or where files are stored, so every layer above may call it and its tests need none of them.
"""
