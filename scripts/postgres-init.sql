CREATE DATABASE prefect OWNER docflow;
