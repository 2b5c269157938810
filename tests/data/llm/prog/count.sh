#!/bin/sh
# A program for the llm proposer's end-to-end test: prints one number; higher is better, and the
# verifier accepts at most 100.
# EVOLVE-BLOCK-START
n=3
# EVOLVE-BLOCK-END
echo "$n"
