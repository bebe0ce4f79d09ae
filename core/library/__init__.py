"""What people do with the library beyond a single job: transcript files (exports), the dashboard's figures
(insights), and which text of a video is analysed and searched, and its vectors (indexing)."""
