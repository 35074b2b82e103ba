from django import template

from config.admin import rupees
from operations.dashboard import minutes

register = template.Library()
register.filter("rupees", rupees)
register.filter("minutes", minutes)
