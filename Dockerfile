# The Airflow image of the compose deployment: the official image plus the project's
# pinned requirements (every transitive version from constraints.txt, the tested set).
# Python 3.11, like the tested set.
FROM apache/airflow:3.3.2-python3.11

# LibreOffice renders the approved report to PDF before it is signed; Liberation is Times New
# Roman's metric twin. SoftHSM2 is not needed here: a deployment's PKCS#11 module is the token's.
USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends libreoffice-writer fonts-liberation \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
USER airflow

COPY --chown=airflow:0 requirements.txt constraints.txt /opt/airflow/requirements/
RUN pip install --no-cache-dir -r /opt/airflow/requirements/requirements.txt

# The code is in the image too; compose mounts the working copy over it.
COPY --chown=airflow:0 include /opt/airflow/include
COPY --chown=airflow:0 plugins /opt/airflow/plugins
COPY --chown=airflow:0 dags /opt/airflow/dags
ENV PYTHONPATH=/opt/airflow/include:/opt/airflow/plugins
