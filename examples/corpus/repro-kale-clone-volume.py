# metadata: {"kubeflow_notebook": {"pipeline_name": "p", "volumes": [{"annotations": [], "mount_point": "/home/jovyan", "name": "workspace", "size": 5, "size_type": "Gi", "snapshot": false, "type": "clone"}]}, "language_info": {"name": "python"}}
# %% tags=["step:hello"]
print("hello")
