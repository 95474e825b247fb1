"""Reading whole pages: finding the text lines on a page, putting them in reading order, straightening
each one and reading it with a line recogniser (:mod:`kocr.runtime`)."""
