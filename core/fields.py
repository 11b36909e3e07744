"""Model fields for personal numbers kept encrypted at rest (core.crypto).

- ``EncryptedTextField`` stores an AES-GCM token and reads back plain text. It cannot
  be filtered or sorted on (every seal differs): any lookup but ``isnull`` is refused.
- ``BlindIndexField`` keeps the keyed hash of another field, for exact search.
- ``TailField`` keeps the last characters of another field (the counter's "last 4").

The two derived fields fill themselves in ``pre_save``, which Django calls on
``save()`` and ``bulk_create()`` alike (and so for django-simple-history's rows);
declare them after their source. A ``bulk_update`` or ``QuerySet.update`` that changes
the source must recompute them (their ``pre_save``) and name them too, as
``core.encryption_migration.reseal`` does.

    id_number = EncryptedTextField("公民身份号码", purpose="id_number", max_length=18)
    id_number_hash = BlindIndexField(source="id_number", purpose="id_number", unique=True)
    id_number_last4 = TailField(source="id_number", db_index=True)

Query by ``id_number_hash=core.idcard.id_number_hash(number)``.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import FieldError
from django.db import models

from core import crypto


class EncryptedTextField(models.TextField):
    description = "Text encrypted at rest (AES-GCM)"

    def __init__(self, *args, purpose: str, **kwargs):
        self.purpose = purpose
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["purpose"] = self.purpose
        return name, path, args, kwargs

    def from_db_value(self, value, expression, connection):
        return self.to_python(value)

    def to_python(self, value):
        if crypto.is_token(value):
            return crypto.decrypt(value, self.purpose)
        return super().to_python(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "" or crypto.is_token(value):
            return value
        return crypto.encrypt(value, self.purpose)

    def get_lookup(self, lookup_name):
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        # Ciphertexts compare as noise: search through the blind index or the tail column.
        raise FieldError(
            f"{self.model._meta.label}.{self.name} is encrypted at rest and cannot be queried with "
            f"'{lookup_name}': filter on its BlindIndexField / TailField (e.g. "
            f"InsuredPerson.objects.with_id_number()) instead."
        )

    def get_transform(self, lookup_name):
        return None

    def formfield(self, **kwargs):
        # One line, as the CharField it replaces (TextField would give a textarea).
        defaults = {"form_class": forms.CharField, "max_length": self.max_length, "widget": forms.TextInput}
        return models.Field.formfield(self, **{**defaults, **kwargs})


class _DerivedField(models.CharField):
    """A column computed from another field of the same row on every write."""

    def __init__(self, *args, source: str, **kwargs):
        self.source = source
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        kwargs.pop("editable", None)
        kwargs.pop("blank", None)
        return name, path, args, kwargs

    def derive(self, plain: str) -> str:
        raise NotImplementedError

    def pre_save(self, model_instance, add):
        value = self.derive(getattr(model_instance, self.source) or "")
        setattr(model_instance, self.attname, value)
        return value


class BlindIndexField(_DerivedField):
    description = "Keyed hash of an encrypted field, for exact search"

    def __init__(self, *args, purpose: str, **kwargs):
        self.purpose = purpose
        kwargs.setdefault("max_length", 64)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["purpose"] = self.purpose
        return name, path, args, kwargs

    def derive(self, plain: str) -> str:
        return crypto.blind_index(plain, self.purpose)


class TailField(_DerivedField):
    description = "The last characters of an encrypted field"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 4)
        super().__init__(*args, **kwargs)

    def derive(self, plain: str) -> str:
        return plain[-self.max_length:] if plain else ""


def derived_fields(model) -> list[_DerivedField]:
    return [field for field in model._meta.concrete_fields if isinstance(field, _DerivedField)]


def encrypted_fields(model) -> list[EncryptedTextField]:
    return [field for field in model._meta.concrete_fields if isinstance(field, EncryptedTextField)]

