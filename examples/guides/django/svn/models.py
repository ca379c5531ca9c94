from django.db import models


class Repository(models.Model):
    """A Subversion repository served by Apache (mod_dav_svn).

    The model exists to carry the two permissions djauth checks; Django
    creates them (auth_permission rows) when `migrate` runs.
    """

    name = models.CharField(max_length=100, unique=True)

    class Meta:
        default_permissions = ()
        permissions = [
            ("view_repo", "Can check out and read the Subversion repository"),
            ("commit_repo", "Can commit to the Subversion repository"),
        ]

    def __str__(self):
        return self.name
