"""The default RAG template (the admin may replace it: RAG_TEMPLATE, live.py)."""

TEMPLATE = """### Task:
Answer the user's query using the context below. Cite the sources you use with their id in
brackets, e.g. [1]. If the context does not contain the answer, say so rather than guessing.

<context>
{context}
</context>

<user_query>
{query}
</user_query>"""
