from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Repository",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=100, unique=True)),
            ],
            options={
                "default_permissions": (),
                "permissions": [
                    ("view_repo", "Can check out and read the Subversion repository"),
                    ("commit_repo", "Can commit to the Subversion repository"),
                ],
            },
        ),
    ]
