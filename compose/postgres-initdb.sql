CREATE DATABASE owui_gateway;
CREATE DATABASE owui_inference;
CREATE DATABASE owui_agent;
CREATE DATABASE owui_retrieval;
CREATE DATABASE owui_chat;
