-- Run once by the image's entrypoint on an empty volume: one database per service (none reads
-- another's tables), and pgvector where the knowledge base keeps its embeddings.
CREATE DATABASE auth;
CREATE DATABASE social;
CREATE DATABASE agent;
CREATE DATABASE llm;
CREATE DATABASE rag;
CREATE DATABASE leads;
\connect rag
CREATE EXTENSION IF NOT EXISTS vector;
