"""A project's own copies of the legacy hashers Django removed (crypt in 5.0;
SHA-1, unsalted SHA-1 and unsalted MD5 in 5.1), as projects with old user
tables keep them: listed in PASSWORD_HASHERS as
`project_legacy_hashers.SHA1PasswordHasher` etc.

djauth cannot import Python; such a site lists the algorithm names (`sha1`,
`unsalted_sha1`, `unsalted_md5`, `crypt`) in its `password_hashers`. The
formats are Django's; identify_hasher already routes 32-character and
`md5$$` / `sha1$$` strings to the unsalted names.
"""

import hashlib

from django.contrib.auth.hashers import BasePasswordHasher
from django.utils.crypto import constant_time_compare


class SHA1PasswordHasher(BasePasswordHasher):
    algorithm = "sha1"

    def encode(self, password, salt):
        if not salt or "$" in salt:
            raise ValueError("salt must be non-empty and contain no $")
        return f"sha1${salt}${hashlib.sha1((salt + password).encode()).hexdigest()}"

    def decode(self, encoded):
        algorithm, salt, hash = encoded.split("$", 2)
        assert algorithm == self.algorithm
        return {"algorithm": algorithm, "hash": hash, "salt": salt}

    def verify(self, password, encoded):
        return constant_time_compare(encoded, self.encode(password, self.decode(encoded)["salt"]))

    def safe_summary(self, encoded):
        return {"algorithm": self.algorithm}


class UnsaltedSHA1PasswordHasher(BasePasswordHasher):
    algorithm = "unsalted_sha1"

    def salt(self):
        return ""

    def encode(self, password, salt):
        if salt != "":
            raise ValueError("no salt")
        return "sha1$$" + hashlib.sha1(password.encode()).hexdigest()

    def decode(self, encoded):
        assert encoded.startswith("sha1$$")
        return {"algorithm": self.algorithm, "hash": encoded[6:], "salt": None}

    def verify(self, password, encoded):
        return constant_time_compare(encoded, self.encode(password, ""))

    def safe_summary(self, encoded):
        return {"algorithm": self.algorithm}


class UnsaltedMD5PasswordHasher(BasePasswordHasher):
    algorithm = "unsalted_md5"

    def salt(self):
        return ""

    def encode(self, password, salt):
        if salt != "":
            raise ValueError("no salt")
        return hashlib.md5(password.encode()).hexdigest()

    def decode(self, encoded):
        return {"algorithm": self.algorithm, "hash": encoded, "salt": None}

    def verify(self, password, encoded):
        if len(encoded) == 37 and encoded.startswith("md5$$"):
            encoded = encoded[5:]
        return constant_time_compare(encoded, self.encode(password, ""))

    def safe_summary(self, encoded):
        return {"algorithm": self.algorithm}


class CryptPasswordHasher(BasePasswordHasher):
    algorithm = "crypt"
    library = "crypt"

    def salt(self):
        return "ab"

    def encode(self, password, salt):
        crypt = self._load_library()
        data = crypt.crypt(password, salt)
        if data is None:
            raise TypeError("crypt(3) refused the salt")
        return f"{self.algorithm}$${data}"

    def decode(self, encoded):
        algorithm, salt, data = encoded.split("$", 2)
        assert algorithm == self.algorithm
        return {"algorithm": algorithm, "hash": data, "salt": salt}

    def verify(self, password, encoded):
        crypt = self._load_library()
        data = self.decode(encoded)["hash"]
        return constant_time_compare(data, crypt.crypt(password, data))

    def safe_summary(self, encoded):
        return {"algorithm": self.algorithm}
